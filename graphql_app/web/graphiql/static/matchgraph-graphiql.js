// Matchgraph's GraphiQL bootstrap: plain browser JavaScript, no build step.
//
// Loaded after the vendored UMD builds (static/vendor/manifest.json), which define the globals React,
// ReactDOM, GraphiQL, graphqlWs and, optionally, GraphiQLPluginExplorer. The settings come from the page as a
// JSON block (#matchgraph-graphiql-config) rather than inline script, so the Content-Security-Policy can
// forbid inline scripts.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("matchgraph-graphiql-config").textContent);
  var graphql = GraphiQL.GraphQL; // graphql-js, as bundled in (and exported by) GraphiQL's UMD build

  // Queries and mutations: POST to the path this page came from, with the Headers editor's headers.
  var httpUrl = new URL(config.endpoint, window.location.href).href;
  // Subscriptions: a WebSocket on the same path (graphql-transport-ws).
  var wsUrl = httpUrl.replace(/^http/, "ws");

  function postOperation(params, headers) {
    return fetch(httpUrl, {
      method: "POST",
      headers: Object.assign({ "Content-Type": "application/json", Accept: "application/json" }, headers),
      body: JSON.stringify(params),
      credentials: "same-origin",
    }).then(function (response) {
      return response.text().then(function (body) {
        try {
          return JSON.parse(body);
        } catch (notJson) {
          // A proxy's error page or a plain-text 500: show it in the result pane rather than a parse error.
          return { errors: [{ message: "HTTP " + response.status + ": " + body.slice(0, 2000) }] };
        }
      });
    });
  }

  // One graphql-ws client per set of headers: created on the first subscription, reused while the headers
  // stay the same, and replaced (the old one disposed) when they change. With `lazy` (the default) the socket
  // is open only while a subscription runs.
  var ws = { key: null, client: null };

  function wsClientFor(headers) {
    var key = JSON.stringify(headers);
    if (ws.client === null || ws.key !== key) {
      if (ws.client !== null) ws.client.dispose();
      ws.key = key;
      ws.client = graphqlWs.createClient({
        url: wsUrl,
        // The server authenticates the socket from the connection_init payload: {"Authorization": "Bearer …"}.
        connectionParams: headers,
        // graphql-ws retries 4403 Forbidden (a missing or bad token) five times with backoff before it gives
        // up; a person at GraphiQL wants to hear at once. Lost connections (other close codes) are still retried.
        shouldRetry: function (closeEvent) {
          var code = closeEvent && closeEvent.code;
          return typeof code === "number" && (code < 4000 || code >= 5000);
        },
      });
    }
    return ws.client;
  }

  // What graphql-ws reports as an error, for GraphiQL to print as {"errors": [...]}: a list of GraphQL errors
  // (an `error` message) as it is; a CloseEvent or an Error as a plain {message} (an Error would show its stack).
  function describeError(error) {
    if (Array.isArray(error)) return error;
    if (error && typeof error.code === "number" && "reason" in error) {
      return { message: "WebSocket closed with code " + error.code + ": " + (error.reason || "no reason given") };
    }
    return { message: error instanceof Error ? error.message : String(error) };
  }

  // GraphiQL 3 accepts an Observable-like result and streams each `next` into the result pane; clicking
  // the stop button calls `unsubscribe`.
  function subscribeOperation(params, headers) {
    return {
      subscribe: function (observer) {
        var dispose = wsClientFor(headers).subscribe(params, {
          next: function (result) {
            observer.next(result);
          },
          error: function (error) {
            observer.error(describeError(error));
          },
          complete: function () {
            observer.complete();
          },
        });
        return { unsubscribe: dispose };
      },
    };
  }

  function isSubscription(params) {
    try {
      var operation = graphql.getOperationAST(graphql.parse(params.query), params.operationName || null);
      return operation !== null && operation.operation === "subscription";
    } catch (syntaxError) {
      return false; // let the server answer with the syntax error
    }
  }

  // GraphiQL calls this for every operation (and for its introspection query), passing the parsed Headers
  // editor as `opts.headers`.
  function fetcher(params, opts) {
    var headers = (opts && opts.headers) || {};
    return isSubscription(params) ? subscribeOperation(params, headers) : postOperation(params, headers);
  }

  var plugins = [];
  if (window.GraphiQLPluginExplorer) plugins.push(GraphiQLPluginExplorer.explorerPlugin());

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: config.defaultQuery,
      plugins: plugins,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true, // headers (the token) survive a reload, in this browser's localStorage
      defaultEditorToolsVisibility: "headers", // open on the Headers tab, where the token goes
    })
  );
})();
