// PostGraphile 5 as `python -m bench.peer` runs it (the peer server `postgraphile5`): the amber preset, the pg
// adaptor, schema `public`, default inflection, no GraphiQL, no explain, no watch, no subscriptions, 127.0.0.1.
// The harness sets the connection string, the port and the pool size through these environment variables.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

const required = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (bench/peer5/graphile.config.mjs is run by python -m bench.peer)`);
  return value;
};

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: required("PG5_DATABASE_URL"),
      schemas: ["public"],
      poolConfig: { max: Number(process.env.PG5_POOL_MAX ?? "10") },
      pubsub: false,
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(required("PG5_PORT")),
    graphiql: false,
    watch: false,
    websockets: false,
  },
  grafast: { explain: false },
};

export default preset;
