"""Deterministic demo companies and grants (see docs/matching.md).

Pure data generation: no database, no I/O. Everything is drawn from ``random.Random(seed)``, so the same
seed always gives the same data. Companies and grants are assembled from sector profiles and grant themes
that share NACE codes, carbon categories, certifications and EU taxonomy objectives, so that a person
exploring the API sees plausible matches (a German heat-pump maker meets KfW and BAFA efficiency schemes,
a Danish recycler meets LIFE and Innovation Fund Denmark circular-economy calls, ...).

NACE codes are written in NACE Rev. 2 form with their section letter (``"M71.12"``, ``"J62"``, ``"E38.11"``).
Only codes whose digits also exist, with the same meaning, in the Rev. 2.1 list shipped by
``naceconverter`` are used, so they can be validated and named with that package.

Text is built by combining template parts, so generation stays cheap: 100,000 items take a few seconds.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from itertools import accumulate

from graphql_app.matching.vocabulary import size_for_headcount

__all__ = [
    "DEMO_COUNTRIES",
    "DEMO_TENANTS",
    "DemoCompany",
    "DemoGrant",
    "generate_demo_companies",
    "generate_demo_grants",
]

#: Tenant slugs (organisation accounts) the demo companies belong to.
DEMO_TENANTS: tuple[str, ...] = ("acme-ventures", "nordic-green")


@dataclass(frozen=True)
class DemoCompany:
    tenant: str
    name: str
    country: str
    nace_codes: tuple[str, ...]
    size: str
    employees: int
    description: str
    carbon_categories: tuple[str, ...]
    certifications: tuple[str, ...]
    taxonomy_objectives: tuple[str, ...]


@dataclass(frozen=True)
class DemoGrant:
    title: str
    description: str
    funder: str
    countries: tuple[str, ...]
    nace_codes: tuple[str, ...]
    sizes: tuple[str, ...]
    carbon_categories: tuple[str, ...]
    certifications: tuple[str, ...]
    taxonomy_objectives: tuple[str, ...]
    is_carbon_focused: bool
    deadline_in_days: int | None
    amount_min: int | None
    amount_max: int | None
    currency: str
    url: str


# --- countries --------------------------------------------------------------------------------------------

# code: (name, adjective, cities, legal forms for smaller companies, legal forms for large ones)
_COUNTRIES: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "DE": ("Germany", "German", ("Hamburg", "Munich", "Cologne", "Leipzig", "Stuttgart", "Bremen"),
           ("GmbH", "GmbH & Co. KG"), ("AG", "SE")),
    "FR": ("France", "French", ("Lyon", "Toulouse", "Nantes", "Lille", "Grenoble", "Bordeaux"),
           ("SAS", "SARL"), ("SA",)),
    "NL": ("the Netherlands", "Dutch", ("Rotterdam", "Utrecht", "Eindhoven", "Groningen", "Delft"),
           ("B.V.",), ("N.V.",)),
    "IT": ("Italy", "Italian", ("Milan", "Turin", "Bologna", "Padua", "Bari", "Florence"),
           ("S.r.l.",), ("S.p.A.",)),
    "ES": ("Spain", "Spanish", ("Madrid", "Barcelona", "Valencia", "Bilbao", "Seville", "Zaragoza"),
           ("S.L.",), ("S.A.",)),
    "SE": ("Sweden", "Swedish", ("Gothenburg", "Malmö", "Uppsala", "Luleå", "Västerås"), ("AB",), ("AB",)),
    "FI": ("Finland", "Finnish", ("Espoo", "Tampere", "Oulu", "Turku", "Vaasa"), ("Oy",), ("Oyj",)),
    "DK": ("Denmark", "Danish", ("Aarhus", "Odense", "Aalborg", "Esbjerg", "Copenhagen"), ("ApS",), ("A/S",)),
    "PL": ("Poland", "Polish", ("Warsaw", "Kraków", "Gdańsk", "Wrocław", "Poznań"),
           ("sp. z o.o.",), ("S.A.",)),
    "AT": ("Austria", "Austrian", ("Vienna", "Graz", "Linz", "Salzburg", "Innsbruck"), ("GmbH",), ("AG",)),
    "BE": ("Belgium", "Belgian", ("Antwerp", "Ghent", "Leuven", "Liège", "Brussels"),
           ("BV", "SRL"), ("NV", "SA")),
    "IE": ("Ireland", "Irish", ("Dublin", "Cork", "Galway", "Limerick"), ("Ltd",), ("DAC", "plc")),
    "PT": ("Portugal", "Portuguese", ("Lisbon", "Porto", "Braga", "Aveiro"), ("Lda.",), ("S.A.",)),
    "CZ": ("Czechia", "Czech", ("Prague", "Brno", "Ostrava", "Plzeň"), ("s.r.o.",), ("a.s.",)),
    "NO": ("Norway", "Norwegian", ("Oslo", "Bergen", "Trondheim", "Stavanger"), ("AS",), ("ASA",)),
}  # fmt: skip

#: Countries the demo companies are located in (EU Member States plus Norway from the EEA).
DEMO_COUNTRIES: tuple[str, ...] = tuple(_COUNTRIES)

# Country weights per tenant: "acme-ventures" is pan-European, "nordic-green" mostly Nordic.
_TENANT_COUNTRY_WEIGHTS: dict[str, dict[str, int]] = {
    "acme-ventures": {
        "DE": 16, "FR": 13, "NL": 10, "IT": 10, "ES": 9, "PL": 7, "BE": 6, "AT": 6, "IE": 5, "PT": 4,
        "SE": 4, "CZ": 3, "DK": 3, "FI": 3,
    },
    "nordic-green": {
        "SE": 25, "FI": 18, "DK": 18, "NO": 8, "DE": 8, "NL": 7, "PL": 5, "IE": 3, "AT": 3, "BE": 3, "FR": 2,
    },
}  # fmt: skip


# --- company sectors --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sector:
    noun: str
    weight: int
    nace_primary: tuple[str, ...]
    nace_secondary: tuple[str, ...]
    carbon_primary: tuple[str, ...]
    carbon_secondary: tuple[str, ...]
    certifications: tuple[tuple[str, float], ...]  # (certification, probability for a medium company)
    taxonomy_primary: tuple[str, ...]
    taxonomy_secondary: tuple[str, ...]
    size_weights: tuple[int, int, int, int]  # MICRO, SMALL, MEDIUM, LARGE
    name_words: tuple[str, ...]
    activities: tuple[str, ...]  # "... that <activity>." — may use {country} and {city}
    focuses: tuple[str, ...]  # carbon focus sentence — may use {mw} {n} {pct} {kt}
    customers: tuple[str, ...]


_CCM = "CLIMATE_CHANGE_MITIGATION"
_CCA = "CLIMATE_CHANGE_ADAPTATION"
_WATER = "WATER_MARINE_RESOURCES"
_CIRC = "CIRCULAR_ECONOMY"
_POLL = "POLLUTION_PREVENTION"
_BIO = "BIODIVERSITY_ECOSYSTEMS"

_SECTORS: tuple[_Sector, ...] = (
    _Sector(
        noun="renewable energy developer",
        weight=12,
        nace_primary=("D35.1", "F42.22"),
        nace_secondary=("M71.12", "D35.30", "F43.21"),
        carbon_primary=("renewable_energy",),
        carbon_secondary=("energy_storage", "clean_hydrogen", "biodiversity"),
        certifications=(("ISO_14001", 0.6), ("ISO_9001", 0.5), ("ISO_45001", 0.4), ("ISO_50001", 0.2)),
        taxonomy_primary=(_CCM,),
        taxonomy_secondary=(_BIO,),
        size_weights=(2, 5, 4, 2),
        name_words=("Solar", "Wind", "Renewables", "Energy", "Power", "Energy Parks"),
        activities=(
            "develops, finances and operates ground-mounted solar PV parks and onshore wind farms across {country}",
            "builds agrivoltaic and rooftop solar installations for farms, logistics halls and "
            "municipalities in {country}",
            "repowers ageing onshore wind farms with larger, more efficient turbines and co-located battery storage",
            "develops small hydropower and biomass combined heat and power plants for regional grids around {city}",
        ),
        focuses=(
            "Its {mw} MW project pipeline is expected to avoid about {kt},000 tonnes of CO2 a year.",
            "Projects are paired with battery storage to firm renewable output and with biodiversity plans "
            "for every site.",
            "The company has connected {mw} MW of renewable capacity and sells green power under long-term PPAs.",
        ),
        customers=(
            "Offtakers include utilities, industrial energy users and local energy communities.",
            "It works closely with landowners, municipalities and grid operators.",
        ),
    ),
    _Sector(
        noun="energy-efficiency engineering consultancy",
        weight=11,
        nace_primary=("M71.12", "M71.20"),
        nace_secondary=("M70.2", "M71.11", "F43.22"),
        carbon_primary=("energy_efficiency",),
        carbon_secondary=("green_buildings", "renewable_energy"),
        certifications=(("ISO_50001", 0.5), ("ISO_9001", 0.6), ("ISO_14001", 0.4), ("B_CORP", 0.1)),
        taxonomy_primary=(_CCM,),
        taxonomy_secondary=(_CCA,),
        size_weights=(5, 6, 3, 1),
        name_words=(
            "Energy Engineering",
            "Efficiency Consulting",
            "Engineering",
            "Energy Consultants",
            "Thermal Engineering",
        ),
        activities=(
            "carries out energy audits and designs heat-recovery and process-optimisation measures for manufacturers",
            "plans building-services retrofits, heat-pump conversions and energy monitoring for commercial "
            "property owners in {country}",
            "models industrial energy flows and engineers waste-heat recovery, compressed-air and motor-drive upgrades",
        ),
        focuses=(
            "Its clients cut their energy demand by {pct}% on average, saving around {kt},000 tonnes of CO2 "
            "a year in total.",
            "The team has completed more than {n} energy audits and verifies savings with measured data.",
            "It specialises in decarbonising process heat with industrial heat pumps and thermal storage.",
        ),
        customers=(
            "Clients are mainly industrial SMEs, hospitals and public building owners.",
            "It also trains energy managers preparing for ISO 50001 certification.",
        ),
    ),
    _Sector(
        noun="sustainable mobility company",
        weight=9,
        nace_primary=("C27.90", "H52.21", "C30.92"),
        nace_secondary=("F43.21", "C29.31", "C27.12", "N77.11", "H49.39"),
        carbon_primary=("sustainable_mobility",),
        carbon_secondary=("energy_storage", "renewable_energy"),
        certifications=(("ISO_9001", 0.6), ("ISO_14001", 0.4), ("ISO_27001", 0.2)),
        taxonomy_primary=(_CCM,),
        taxonomy_secondary=(_POLL,),
        size_weights=(3, 6, 4, 1),
        name_words=("E-Mobility", "Charge", "Mobility", "EV Systems", "Electric Mobility"),
        activities=(
            "manufactures and installs fast-charging stations for electric cars, vans and trucks along "
            "highways and in city centres",
            "operates a network of {n} public EV charging points with smart, grid-aware load management in {country}",
            "builds electric cargo bikes and light electric vehicles for urban last-mile delivery",
            "electrifies municipal bus and logistics fleets, supplying depot chargers and fleet "
            "energy-management software",
        ),
        focuses=(
            "Its products and services put more than {n},000 electric vehicles on renewable power every "
            "month, displacing diesel and petrol.",
            "The company estimates that its customers avoid {kt},000 tonnes of tailpipe CO2 a year.",
            "It designs for the full life cycle, with repairable hardware and batteries recycled at end of life.",
        ),
        customers=(
            "Customers include municipalities, fleet operators, retailers and housing associations.",
            "It partners with utilities and car-sharing operators in {city}.",
        ),
    ),
    _Sector(
        noun="circular-economy recycler",
        weight=10,
        nace_primary=("E38.11", "E38.12", "E39.00"),
        nace_secondary=("C22.21", "C33.12", "C24.10"),
        carbon_primary=("circular_economy", "waste_reduction"),
        carbon_secondary=("energy_efficiency",),
        certifications=(
            ("ISO_14001", 0.7),
            ("EMAS", 0.3),
            ("ISO_9001", 0.5),
            ("CRADLE_TO_CRADLE", 0.15),
            ("EU_ECOLABEL", 0.1),
        ),
        taxonomy_primary=(_CIRC,),
        taxonomy_secondary=(_POLL, _CCM),
        size_weights=(2, 5, 5, 2),
        name_words=("Recycling", "Circular", "Resource Recovery", "Recycling Group", "Materials"),
        activities=(
            "collects and sorts post-consumer plastic packaging and turns it into recycled pellets for new packaging",
            "recovers copper, aluminium and critical raw materials from electronic waste and end-of-life batteries",
            "collects construction and demolition waste around {city} and processes it into certified "
            "secondary aggregates",
            "refurbishes and remanufactures industrial equipment for resale and leasing",
        ),
        focuses=(
            "It diverts about {kt},000 tonnes of waste from landfill and incineration each year.",
            "Its recycled material has a carbon footprint up to {pct}% lower than virgin material.",
            "The company designs take-back schemes with producers to close material loops.",
        ),
        customers=(
            "Its buyers are packaging, automotive and construction companies.",
            "It serves municipalities and industrial waste producers across {country}.",
        ),
    ),
    _Sector(
        noun="green building contractor",
        weight=10,
        nace_primary=("F41", "F43.22", "F43.3"),
        nace_secondary=("F43.21", "F43.99", "M71.11", "C16.23"),
        carbon_primary=("green_buildings", "energy_efficiency"),
        carbon_secondary=("renewable_energy", "circular_economy"),
        certifications=(
            ("ISO_9001", 0.5),
            ("ISO_14001", 0.4),
            ("ISO_45001", 0.4),
            ("BREEAM", 0.25),
            ("LEED", 0.15),
            ("FSC", 0.1),
        ),
        taxonomy_primary=(_CCM,),
        taxonomy_secondary=(_CCA, _CIRC),
        size_weights=(3, 6, 4, 2),
        name_words=("Construction", "Builders", "Renovation", "Timber Build", "Green Building"),
        activities=(
            "delivers deep energy renovations of apartment blocks, combining facade insulation, triple "
            "glazing and heat pumps",
            "builds timber-frame, near-zero-energy homes and offices in and around {city}",
            "installs heat pumps, rooftop solar and building automation in commercial buildings across {country}",
        ),
        focuses=(
            "Its projects cut the heating demand of buildings by {pct}% compared with the national building code.",
            "Projects follow BREEAM or LEED standards and use low-carbon materials such as timber and "
            "recycled concrete.",
            "It has completed more than {n} near-zero-energy homes and deep renovations.",
        ),
        customers=(
            "Clients include housing associations, municipalities and private homeowners.",
            "It works with architects and energy consultants from design to commissioning.",
        ),
    ),
    _Sector(
        noun="agritech company",
        weight=7,
        nace_primary=("A01.61", "C28.30", "A01.13"),
        nace_secondary=("M72.1", "J62", "A01.50"),
        carbon_primary=("sustainable_agriculture",),
        carbon_secondary=("sustainable_food", "water_management", "biodiversity"),
        certifications=(("ISO_14001", 0.3), ("B_CORP", 0.15), ("ISO_9001", 0.3)),
        taxonomy_primary=(_CCM, _CCA),
        taxonomy_secondary=(_BIO, _WATER),
        size_weights=(5, 5, 2, 1),
        name_words=("Agritech", "Farming Systems", "Agro", "Farm Technologies", "Fields"),
        activities=(
            "builds precision-farming sensors and software that optimise irrigation, fertiliser and pesticide use",
            "runs vertical farms near {city} that grow leafy greens with renewable electricity and recirculated water",
            "manufactures robotic weeding and low-emission tillage machinery for arable farms",
            "supports farmers in {country} with regenerative-agriculture advice, soil-carbon measurement and "
            "cover crops",
        ),
        focuses=(
            "Its methods cut fertiliser and water use by {pct}% while keeping yields stable.",
            "The approach protects soils and farmland biodiversity and cuts emissions per tonne of food.",
            "It helps food production adapt to drought and heat and lowers its carbon footprint.",
        ),
        customers=(
            "It works with farm cooperatives, food processors and retailers.",
            "Customers range from family farms to large arable estates.",
        ),
    ),
    _Sector(
        noun="water technology company",
        weight=6,
        nace_primary=("E36.00", "E37.00", "C28.13"),
        nace_secondary=("C26.51", "F42.21", "M71.12", "C28.14"),
        carbon_primary=("water_management",),
        carbon_secondary=("climate_adaptation", "energy_efficiency"),
        certifications=(("ISO_14001", 0.5), ("ISO_9001", 0.6), ("ISO_50001", 0.2)),
        taxonomy_primary=(_WATER,),
        taxonomy_secondary=(_CCA, _POLL),
        size_weights=(2, 5, 5, 3),
        name_words=("Water Technologies", "Water", "Hydro Systems", "Aqua Solutions", "Water Engineering"),
        activities=(
            "designs and operates energy-efficient wastewater treatment and water-reuse plants for "
            "municipalities and industry",
            "manufactures smart water meters and acoustic leak-detection systems for drinking-water networks",
            "builds membrane and UV treatment units that recover process water for food and chemical plants",
            "engineers stormwater retention and sustainable urban drainage systems for cities such as {city}",
        ),
        focuses=(
            "Its systems cut water use and losses by {pct}% and reduce pumping and treatment energy.",
            "Installed systems save about {n} million litres of water per day.",
            "The company helps utilities adapt to droughts and heavy rainfall driven by climate change.",
        ),
        customers=(
            "Customers are water utilities, municipalities and process industries.",
            "It operates plants under long-term service contracts across {country}.",
        ),
    ),
    _Sector(
        noun="carbon capture start-up",
        weight=4,
        nace_primary=("M72.1", "C28.29"),
        nace_secondary=("C20.11", "M71.12", "C23.61"),
        carbon_primary=("carbon_capture",),
        carbon_secondary=("clean_hydrogen", "circular_economy"),
        certifications=(("ISO_14064", 0.4), ("ISO_9001", 0.2), ("SBTI", 0.15)),
        taxonomy_primary=(_CCM,),
        taxonomy_secondary=(),
        size_weights=(6, 5, 1, 0),
        name_words=("Carbon", "Capture", "CO2 Solutions", "Carbon Removal", "Climate Technologies"),
        activities=(
            "develops modular post-combustion capture units for cement, lime and waste-to-energy plants",
            "builds direct air capture machines that remove CO2 from ambient air for permanent storage",
            "mineralises captured CO2 into carbonates used in low-carbon concrete and building materials",
            "engineers bio-energy carbon capture and storage (BECCS) systems for biomass heating plants",
        ),
        focuses=(
            "A pilot unit captures {n} tonnes of CO2 a year and a first commercial plant is in design.",
            "Its process uses {pct}% less energy per tonne of CO2 than conventional capture routes.",
            "Captured CO2 is stored permanently or reused, with removals verified under ISO 14064.",
        ),
        customers=(
            "It partners with cement producers, utilities and carbon-removal buyers.",
            "The team spun out of a university research group in {city}.",
        ),
    ),
    _Sector(
        noun="climate software company",
        weight=8,
        nace_primary=("J62", "J58.29"),
        nace_secondary=("J63.1", "M72.1", "M70.2"),
        carbon_primary=("energy_efficiency", "climate_adaptation", "renewable_energy", "green_finance"),
        carbon_secondary=(),
        certifications=(("ISO_27001", 0.5), ("ISO_9001", 0.3), ("B_CORP", 0.15), ("SBTI", 0.1)),
        taxonomy_primary=(_CCM, _CCA),
        taxonomy_secondary=(),
        size_weights=(4, 6, 3, 1),
        name_words=("Analytics", "Software", "AI", "Data", "Labs", "Climate Tech"),
        activities=(
            "develops an AI platform that forecasts wind and solar output for grid operators and energy traders",
            "builds carbon-accounting software that measures Scope 1-3 emissions and supply-chain footprints for SMEs",
            "offers machine-learning building energy management that tunes heating and cooling in real time",
            "provides climate-risk analytics that map flood, heat and drought exposure of assets and portfolios",
        ),
        focuses=(
            "Its software serves more than {n} customers and helps them cut emissions by {pct}% on average.",
            "The platform supports CSRD and EU taxonomy reporting and science-based target setting.",
            "Customers use its insights to prioritise decarbonisation and climate-adaptation investments.",
        ),
        customers=(
            "Customers include utilities, property managers, banks and industrial SMEs.",
            "It sells as a subscription service to companies across Europe.",
        ),
    ),
    _Sector(
        noun="industrial manufacturer",
        weight=10,
        nace_primary=("C28.25", "C25.21", "C28.21", "C27.11"),
        nace_secondary=("C25.11", "C33.20", "C28.14", "C28.13"),
        carbon_primary=("energy_efficiency",),
        carbon_secondary=("circular_economy", "renewable_energy", "waste_reduction"),
        certifications=(
            ("ISO_9001", 0.8),
            ("ISO_14001", 0.5),
            ("ISO_50001", 0.35),
            ("ISO_45001", 0.35),
            ("EMAS", 0.1),
        ),
        taxonomy_primary=(_CCM,),
        taxonomy_secondary=(_CIRC,),
        size_weights=(1, 5, 6, 3),
        name_words=("Industries", "Manufacturing", "Components", "Thermal Systems", "Drives"),
        activities=(
            "manufactures high-efficiency heat pumps and ventilation units with natural refrigerants",
            "produces precision metal components and is electrifying its furnaces and paint lines",
            "builds industrial boilers, heat exchangers and thermal storage for process heat",
            "makes premium-efficiency electric motors and generators for industrial drives",
        ),
        focuses=(
            "It has cut the energy intensity of its production by {pct}% and buys renewable electricity.",
            "Its efficient products and electrified production save around {kt},000 tonnes of CO2 a year.",
            "Production scrap is recycled and products are designed for repair and remanufacturing.",
        ),
        customers=(
            "It exports to machine builders and installers across Europe.",
            "Its main plant near {city} employs skilled staff in production and R&D.",
        ),
    ),
    _Sector(
        noun="energy storage and hydrogen company",
        weight=6,
        nace_primary=("C27.20", "C27.90", "D35.21"),
        nace_secondary=("C20.11", "C28.29", "M72.1"),
        carbon_primary=("energy_storage", "clean_hydrogen"),
        carbon_secondary=("renewable_energy", "sustainable_mobility"),
        certifications=(("ISO_9001", 0.6), ("ISO_14001", 0.4), ("ISO_45001", 0.3)),
        taxonomy_primary=(_CCM,),
        taxonomy_secondary=(),
        size_weights=(3, 5, 4, 2),
        name_words=("Storage", "Hydrogen", "Batteries", "H2", "Energy Storage"),
        activities=(
            "manufactures lithium-iron-phosphate battery systems for grid storage and commercial sites",
            "develops PEM electrolysers that produce green hydrogen from wind and solar power",
            "builds and operates renewable hydrogen refuelling stations for trucks and buses",
            "designs thermal and battery storage that lets industrial sites run on variable renewable power",
        ),
        focuses=(
            "Its {mw} MW of installed systems help integrate wind and solar power into grids and industry.",
            "Its systems replace fossil fuels and diesel generators, avoiding {kt},000 tonnes of CO2 a year.",
            "Critical materials are sourced with full traceability and recovered at end of life.",
        ),
        customers=(
            "Customers include grid operators, utilities and energy-intensive industry.",
            "It runs a pilot site near {city} with a regional utility.",
        ),
    ),
    _Sector(
        noun="forestry and bio-based materials company",
        weight=4,
        nace_primary=("A02.10", "C16.23", "C17.12"),
        nace_secondary=("A02.40", "C17.21"),
        carbon_primary=("sustainable_forestry",),
        carbon_secondary=("circular_economy", "biodiversity", "green_buildings"),
        certifications=(("FSC", 0.7), ("ISO_14001", 0.5), ("EMAS", 0.15), ("ISO_9001", 0.3)),
        taxonomy_primary=(_BIO, _CCM),
        taxonomy_secondary=(_CIRC,),
        size_weights=(2, 5, 4, 2),
        name_words=("Forest", "Timber", "Wood Products", "Fibre", "Forestry"),
        activities=(
            "manages certified forests and supplies timber for engineered-wood construction",
            "produces cross-laminated timber and wood-fibre insulation from sustainably harvested wood",
            "makes recyclable paper-based packaging that replaces single-use plastics",
        ),
        focuses=(
            "Its wood comes from forests under continuous-cover management that protects biodiversity.",
            "Its products store carbon long-term and replace steel, concrete and fossil-based plastics.",
            "Production residues are used for bio-energy and recycled fibre.",
        ),
        customers=("Its customers are builders, packaging converters and retailers.",),
    ),
    _Sector(
        noun="sustainable food producer",
        weight=5,
        nace_primary=("C10.39", "C10.89", "C10.51"),
        nace_secondary=("A03.22", "A01.13"),
        carbon_primary=("sustainable_food",),
        carbon_secondary=("waste_reduction", "sustainable_agriculture", "energy_efficiency"),
        certifications=(
            ("ISO_14001", 0.4),
            ("ISO_9001", 0.4),
            ("B_CORP", 0.15),
            ("EU_ECOLABEL", 0.1),
            ("EMAS", 0.1),
        ),
        taxonomy_primary=(_CCM,),
        taxonomy_secondary=(_WATER, _CIRC),
        size_weights=(3, 5, 4, 2),
        name_words=("Foods", "Food Company", "Harvest", "Proteins", "Farms"),
        activities=(
            "produces plant-based protein foods from European-grown peas and faba beans",
            "processes surplus fruit and vegetables into juices and purées to reduce food waste",
            "runs a low-emission dairy that uses biogas from manure and solar heat in processing",
            "farms fish and seaweed in recirculating aquaculture systems near {city}",
        ),
        focuses=(
            "Its products have a carbon footprint {pct}% lower than conventional alternatives.",
            "It saves about {n} tonnes of food from waste each year and runs on renewable energy.",
            "The company works with local farmers to cut emissions and water use in its supply chain.",
        ),
        customers=("It supplies supermarkets, caterers and food-service companies in {country}.",),
    ),
    _Sector(
        noun="green finance firm",
        weight=2,
        nace_primary=("K64.99", "K66.30"),
        nace_secondary=("K66.19", "J62"),
        carbon_primary=("green_finance",),
        carbon_secondary=("renewable_energy", "energy_efficiency"),
        certifications=(("B_CORP", 0.3), ("ISO_27001", 0.3), ("SBTI", 0.2)),
        taxonomy_primary=(_CCM,),
        taxonomy_secondary=(_CCA,),
        size_weights=(3, 5, 3, 1),
        name_words=("Capital", "Green Finance", "Impact Partners", "Invest", "Climate Capital"),
        activities=(
            "structures green bonds and sustainability-linked loans for mid-sized renewable and efficiency projects",
            "runs a crowdfunding platform that lets citizens invest in local solar, wind and "
            "energy-efficiency projects",
            "manages an impact fund that invests in climate-tech start-ups across {country} and Europe",
        ),
        focuses=(
            "It has mobilised more than EUR {n} million for projects aligned with the EU taxonomy.",
            "Portfolio emissions are tracked and reported under the EU taxonomy and SFDR.",
            "Financed projects avoid an estimated {kt},000 tonnes of CO2 a year.",
        ),
        customers=("Its investors include pension funds, family offices and retail savers.",),
    ),
    _Sector(
        noun="climate adaptation engineering firm",
        weight=4,
        nace_primary=("M71.12", "F42.99"),
        nace_secondary=("N81.30", "E39.00", "F42.21"),
        carbon_primary=("climate_adaptation",),
        carbon_secondary=("water_management", "biodiversity"),
        certifications=(("ISO_9001", 0.5), ("ISO_14001", 0.5)),
        taxonomy_primary=(_CCA,),
        taxonomy_secondary=(_BIO, _WATER),
        size_weights=(3, 5, 3, 1),
        name_words=("Resilience", "Landscapes", "Water & Nature", "Climate Engineering", "Eco Engineering"),
        activities=(
            "designs nature-based flood defences, river restoration and coastal protection schemes",
            "plans green roofs, urban trees and rain gardens that cool cities and absorb heavy rainfall in {city}",
            "remediates contaminated land and restores wetlands for municipalities and industry",
        ),
        focuses=(
            "Its projects protect about {n},000 residents from flooding and heat stress.",
            "Schemes combine climate resilience with restored habitats and biodiversity.",
            "Its schemes have created or restored more than {n} hectares of green and blue space.",
        ),
        customers=("Clients are municipalities, water boards and infrastructure owners in {country}.",),
    ),
)

_NAME_PREFIXES = (
    "Volt", "Nord", "Sol", "Terra", "Aqua", "Eco", "Helio", "Blue", "Green", "Lumen", "Vento", "Alp",
    "Fjord", "Kelvin", "Carbo", "Circ", "Verd", "Bio", "Hydro", "Geo", "Aero", "Silva", "Luma", "Clear",
    "Ever", "Nova", "Ardent", "Stella", "Fen", "Vita",
)  # fmt: skip
_NAME_SUFFIXES = (
    "aris", "ia", "ex", "on", "vik", "tec", "ora", "ium", "gen", "ward", "field", "line", "stream", "a",
    "is", "ion", "lux", "mark", "berg", "sen",
)  # fmt: skip

# Brand-like stems: prefix + suffix, skipping vowel clashes ("Luma" + "aris") and real brand names.
_NAME_STEMS: tuple[str, ...] = tuple(
    prefix + suffix
    for prefix in _NAME_PREFIXES
    for suffix in _NAME_SUFFIXES
    if not (prefix[-1] in "aeiou" and suffix[0] in "aeiou") and prefix + suffix not in {"Nordstream", "Solaris"}
)

_SIZE_RANGES = ((1, 9), (10, 49), (50, 249))
_SIZE_CERT_FACTOR = (0.4, 0.75, 1.0, 1.3)


# --- grant funders and themes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Theme:
    weight: int
    titles: tuple[str, ...]
    funded: tuple[str, ...]  # what is funded (first sentence); titles[i] goes with funded[i % len(funded)]
    conditions: tuple[str, ...]  # eligible costs / expected results (second sentence)
    carbon_primary: tuple[str, ...]
    carbon_secondary: tuple[str, ...]
    taxonomy: tuple[str, ...]
    nace: tuple[str, ...]
    certifications: tuple[str, ...]
    amount: tuple[int, int]  # typical maximum award in EUR (low, high) for a scale-1 funder
    carbon_focus: float  # probability that a grant of this theme is carbon-focused
    sme_bias: float  # probability that the grant is restricted to SMEs
    nace_share: float = 0.5  # probability that the grant restricts NACE codes


_THEMES: dict[str, _Theme] = {
    "renewables": _Theme(
        weight=10,
        titles=(
            "Renewable Electricity Deployment",
            "Solar and Wind Innovation Pilots",
            "Community Renewable Energy Projects",
            "Repowering and Hybrid Renewable Parks",
        ),
        funded=(
            "Funds the development and construction of new solar, wind and other renewable generation "
            "capacity, including grid connection and hybrid storage.",
            "Supports first-of-a-kind renewable energy pilots that raise yields, lower costs or integrate "
            "generation with storage and demand response.",
            "Supports energy communities, municipalities and SMEs that build locally owned solar, wind and "
            "biomass heat projects.",
        ),
        conditions=(
            "Eligible costs include engineering studies, equipment, installation and grid connection.",
            "Projects must demonstrate their annual renewable output and the greenhouse gas emissions avoided.",
        ),
        carbon_primary=("renewable_energy",),
        carbon_secondary=("energy_storage",),
        taxonomy=(_CCM, _BIO),
        nace=("D35", "D35.1", "F42.2", "M71.1"),
        certifications=("ISO_14001", "ISO_50001"),
        amount=(200_000, 5_000_000),
        carbon_focus=1.0,
        sme_bias=0.15,
    ),
    "industrial_efficiency": _Theme(
        weight=10,
        titles=(
            "Industrial Energy Efficiency Investments",
            "Process Heat Decarbonisation",
            "Energy Audit and Efficiency Implementation Support",
            "Waste Heat Recovery in Industry",
        ),
        funded=(
            "Co-finances investments that cut the energy use of production processes, such as heat pumps, "
            "heat recovery, efficient motors and process optimisation.",
            "Supports the replacement of fossil process heat with electrified, renewable or recovered "
            "heat in manufacturing.",
            "Covers professional energy audits and the implementation of the efficiency measures they recommend.",
        ),
        conditions=(
            "Applicants must show measured or modelled energy savings of at least 15%.",
            "Funding is tied to verified CO2 savings per euro of support.",
        ),
        carbon_primary=("energy_efficiency",),
        carbon_secondary=("renewable_energy", "waste_reduction"),
        taxonomy=(_CCM,),
        nace=("C25", "C28", "C10", "C22", "C23", "C24", "M71.1"),
        certifications=("ISO_50001", "ISO_14001", "EMAS"),
        amount=(20_000, 2_000_000),
        carbon_focus=0.95,
        sme_bias=0.45,
    ),
    "building_renovation": _Theme(
        weight=9,
        titles=(
            "Deep Renovation of Buildings",
            "Near-Zero-Energy Building Construction",
            "Heat Pump and Building Retrofit Programme",
        ),
        funded=(
            "Funds deep energy renovations of residential and commercial buildings, including insulation, "
            "windows, heat pumps and rooftop solar.",
            "Supports construction of near-zero-energy and timber buildings that go beyond national "
            "energy-performance requirements.",
            "Supports contractors and building owners who replace fossil heating with heat pumps and "
            "building automation.",
        ),
        conditions=(
            "Applicants must present an energy-performance certificate before and after the works.",
            "Industrialised renovation and low-carbon construction materials are prioritised.",
        ),
        carbon_primary=("green_buildings", "energy_efficiency"),
        carbon_secondary=("renewable_energy", "circular_economy"),
        taxonomy=(_CCM, _CCA),
        nace=("F41", "F43", "F43.2", "M71.1", "C16.2"),
        certifications=("BREEAM", "LEED", "ISO_14001"),
        amount=(15_000, 1_500_000),
        carbon_focus=0.95,
        sme_bias=0.3,
    ),
    "e_mobility": _Theme(
        weight=8,
        titles=(
            "Alternative Fuels Infrastructure",
            "Zero-Emission Fleets and Logistics",
            "Sustainable Urban Mobility Pilots",
            "Electric Vehicle Charging Infrastructure",
        ),
        funded=(
            "Co-funds publicly accessible fast-charging and hydrogen refuelling stations along main "
            "transport corridors and in cities.",
            "Supports companies that switch vans, trucks and buses to zero-emission vehicles and install "
            "depot charging.",
            "Funds pilots of shared, active and electric urban mobility, including cargo bikes and "
            "mobility-as-a-service platforms.",
        ),
        conditions=(
            "Eligible costs include hardware, grid connection, installation and smart-charging software.",
            "Charging must use renewable electricity and open, interoperable charging protocols.",
        ),
        carbon_primary=("sustainable_mobility",),
        carbon_secondary=("energy_storage", "renewable_energy"),
        taxonomy=(_CCM, _POLL),
        nace=("C27", "C27.9", "C29", "C30.9", "H49", "H52", "F43.2"),
        certifications=("ISO_14001",),
        amount=(50_000, 3_000_000),
        carbon_focus=1.0,
        sme_bias=0.25,
    ),
    "circular": _Theme(
        weight=9,
        titles=(
            "Circular Economy and Recycling Innovation",
            "Plastic Waste Recycling Capacity",
            "Critical Raw Materials Recovery",
            "Waste Prevention and Reuse",
        ),
        funded=(
            "Supports new recycling, remanufacturing and reuse capacity that keeps materials in use and out "
            "of landfill.",
            "Funds advanced sorting and recycling of plastics, textiles and construction waste into "
            "high-quality secondary raw materials.",
            "Supports recovery of critical raw materials such as lithium, cobalt and rare earths from "
            "batteries and electronics.",
        ),
        conditions=(
            "Projects are assessed on tonnes of waste avoided and the quality of the recycled output.",
            "Eco-design and take-back schemes developed with producers are an advantage.",
        ),
        carbon_primary=("circular_economy",),
        carbon_secondary=("waste_reduction",),
        taxonomy=(_CIRC, _POLL),
        nace=("E38", "E38.1", "E39", "C22.2", "C24", "C33"),
        certifications=("ISO_14001", "EMAS", "CRADLE_TO_CRADLE"),
        amount=(50_000, 4_000_000),
        carbon_focus=0.95,
        sme_bias=0.3,
    ),
    "water": _Theme(
        weight=6,
        titles=("Water Efficiency and Reuse", "Smart Water Networks", "Wastewater Treatment Innovation"),
        funded=(
            "Funds technologies that reduce water consumption and reuse treated wastewater in industry, "
            "agriculture and cities.",
            "Supports digital metering, leak detection and energy-efficient pumping in drinking-water networks.",
            "Supports energy-positive wastewater treatment and the removal of micropollutants and nutrients.",
        ),
        conditions=(
            "Projects must quantify water savings and the resulting energy and emission reductions.",
            "Pilots must be run with a water utility or an industrial water user.",
        ),
        carbon_primary=("water_management",),
        carbon_secondary=("climate_adaptation", "energy_efficiency"),
        taxonomy=(_WATER, _CCA, _POLL),
        nace=("E36", "E37", "F42.2", "C28.1", "C26.5"),
        certifications=("ISO_14001", "ISO_50001"),
        amount=(50_000, 3_000_000),
        carbon_focus=0.85,
        sme_bias=0.25,
    ),
    "ccus": _Theme(
        weight=4,
        titles=(
            "Carbon Capture, Utilisation and Storage",
            "Carbon Removal Technologies",
            "Industrial Decarbonisation with CCS",
        ),
        funded=(
            "Funds demonstration and first commercial deployment of CO2 capture at cement, lime, steel, "
            "chemicals and waste-to-energy plants.",
            "Supports direct air capture, BECCS and mineralisation technologies that permanently remove CO2 "
            "from the atmosphere.",
        ),
        conditions=(
            "Projects must present a verifiable monitoring plan for captured and stored CO2.",
            "Support covers capital costs and part of the operating costs during the first years of operation.",
        ),
        carbon_primary=("carbon_capture",),
        carbon_secondary=("clean_hydrogen", "circular_economy"),
        taxonomy=(_CCM,),
        nace=("C20", "C23.5", "C24", "M72.1", "D35", "E38"),
        certifications=("ISO_14064",),
        amount=(500_000, 20_000_000),
        carbon_focus=1.0,
        sme_bias=0.1,
    ),
    "hydrogen": _Theme(
        weight=5,
        titles=(
            "Renewable Hydrogen Production",
            "Hydrogen Valleys and Refuelling",
            "Electrolyser Manufacturing Scale-up",
        ),
        funded=(
            "Funds electrolysers that produce renewable hydrogen for industry, transport and energy storage.",
            "Supports regional hydrogen ecosystems that link renewable production, storage and end users in "
            "industry and transport.",
            "Supports the scale-up of European manufacturing of electrolysers, fuel cells and hydrogen components.",
        ),
        conditions=(
            "Hydrogen must meet the EU definition of renewable fuels of non-biological origin.",
            "Applicants must show secured offtake for at least part of the hydrogen produced.",
        ),
        carbon_primary=("clean_hydrogen",),
        carbon_secondary=("renewable_energy", "energy_storage"),
        taxonomy=(_CCM,),
        nace=("D35.2", "C20.1", "C28", "C27"),
        certifications=("ISO_14001",),
        amount=(300_000, 15_000_000),
        carbon_focus=1.0,
        sme_bias=0.15,
    ),
    "storage": _Theme(
        weight=5,
        titles=(
            "Grid Flexibility and Storage Deployment",
            "Battery and Energy Storage Innovation",
            "Thermal Energy Storage Pilots",
        ),
        funded=(
            "Supports stationary battery, thermal and other storage that integrates variable renewable power "
            "into grids and industrial sites.",
            "Funds innovation in battery cells, materials, recycling and management systems made in Europe.",
        ),
        conditions=(
            "Projects should demonstrate flexibility services, round-trip efficiency and an end-of-life "
            "recycling plan.",
            "Eligible costs include storage hardware, power electronics, control software and grid connection.",
        ),
        carbon_primary=("energy_storage",),
        carbon_secondary=("renewable_energy", "circular_economy"),
        taxonomy=(_CCM,),
        nace=("C27", "C27.2", "D35.1"),
        certifications=("ISO_14001",),
        amount=(100_000, 5_000_000),
        carbon_focus=1.0,
        sme_bias=0.3,
    ),
    "agrifood": _Theme(
        weight=7,
        titles=(
            "Sustainable Agriculture and Food Systems",
            "Precision Farming and Agritech Innovation",
            "Farm to Fork Innovation",
            "Regenerative Agriculture Pilots",
        ),
        funded=(
            "Funds practices and technologies that cut greenhouse gas emissions and fertiliser use on farms "
            "while protecting soils and biodiversity.",
            "Supports precision farming, robotics and digital tools that save water, fertiliser and pesticides.",
            "Supports alternative proteins, food-waste reduction and low-emission food processing.",
        ),
        conditions=(
            "Projects are co-designed with farmers and must report soil, water and emission indicators.",
            "Eligible costs include equipment, field trials, certification and staff training.",
        ),
        carbon_primary=("sustainable_agriculture", "sustainable_food"),
        carbon_secondary=("water_management", "biodiversity"),
        taxonomy=(_CCM, _CCA, _BIO),
        nace=("A01", "A01.6", "C10", "C28.3", "M72.1"),
        certifications=("ISO_14001", "EU_ECOLABEL"),
        amount=(20_000, 2_000_000),
        carbon_focus=0.85,
        sme_bias=0.4,
    ),
    "digital_climate": _Theme(
        weight=6,
        titles=(
            "Digital and AI Solutions for Climate",
            "Data-Driven Energy Management",
            "Green Digital Innovation",
        ),
        funded=(
            "Supports software, data and AI solutions that measurably reduce emissions or improve climate resilience.",
            "Funds digital tools for energy management, demand response, emissions accounting and renewable "
            "forecasting.",
        ),
        conditions=(
            "Applicants must show how the emission reductions of the deployed solution will be measured.",
            "Pilots with at least one end user from industry, energy or the public sector are required.",
        ),
        carbon_primary=("energy_efficiency", "climate_adaptation"),
        carbon_secondary=("renewable_energy", "green_finance"),
        taxonomy=(_CCM, _CCA),
        nace=("J62", "J63", "J58", "M72"),
        certifications=("ISO_27001", "ISO_14001"),
        amount=(10_000, 2_500_000),
        carbon_focus=0.9,
        sme_bias=0.65,
    ),
    "nature": _Theme(
        weight=4,
        titles=(
            "Ecosystem Restoration",
            "Urban Greening and Climate Resilience",
            "Nature-Based Solutions and Biodiversity",
        ),
        funded=(
            "Funds restoration of wetlands, rivers, forests and other ecosystems that store carbon and "
            "protect against floods and droughts.",
            "Supports nature-based solutions in cities, such as green roofs, urban forests and sustainable drainage.",
        ),
        conditions=(
            "Projects must monitor biodiversity and ecosystem-service outcomes for at least five years.",
            "Partnerships with municipalities, landowners or nature organisations are expected.",
        ),
        carbon_primary=("biodiversity",),
        carbon_secondary=("climate_adaptation", "sustainable_forestry", "water_management"),
        taxonomy=(_BIO, _CCA),
        nace=("A02", "N81.3", "E39", "F42"),
        certifications=("EMAS", "ISO_14001"),
        amount=(100_000, 4_000_000),
        carbon_focus=0.8,
        sme_bias=0.1,
    ),
    "adaptation": _Theme(
        weight=4,
        titles=(
            "Climate Adaptation and Resilience",
            "Flood and Drought Resilience",
            "Heat Resilience for Cities and Businesses",
        ),
        funded=(
            "Supports measures that make infrastructure, businesses and communities resilient to floods, "
            "droughts and heatwaves.",
            "Funds climate-risk assessments and the adaptation investments they identify.",
        ),
        conditions=(
            "Projects must be based on a climate-risk and vulnerability assessment.",
            "Solutions that combine grey infrastructure with nature-based measures are prioritised.",
        ),
        carbon_primary=("climate_adaptation",),
        carbon_secondary=("water_management", "green_buildings"),
        taxonomy=(_CCA, _WATER),
        nace=("F42", "M71.1", "E37", "J62"),
        certifications=("ISO_14001",),
        amount=(50_000, 2_000_000),
        carbon_focus=0.85,
        sme_bias=0.2,
    ),
    "green_finance": _Theme(
        weight=3,
        titles=(
            "Green Finance and Investment Readiness",
            "Sustainable Finance Capacity Building",
            "Green Loans for SMEs",
        ),
        funded=(
            "Supports intermediaries that develop green bonds, sustainability-linked loans and crowdfunding "
            "for climate projects.",
            "Funds investment-readiness support and EU taxonomy alignment assessments for SMEs.",
            "Provides grants and guarantees to banks and funds that lend to SMEs for climate investments.",
        ),
        conditions=(
            "Projects must mobilise private investment for taxonomy-aligned activities.",
            "Eligible costs include advisory services, due diligence and staff time.",
        ),
        carbon_primary=("green_finance",),
        carbon_secondary=("renewable_energy", "energy_efficiency"),
        taxonomy=(_CCM,),
        nace=("K64", "K66", "M70.2"),
        certifications=("B_CORP", "SBTI"),
        amount=(20_000, 800_000),
        carbon_focus=0.8,
        sme_bias=0.3,
    ),
    "forestry": _Theme(
        weight=3,
        titles=("Sustainable Forestry and Bio-Based Materials", "Wood Construction and Bio-Based Products"),
        funded=(
            "Funds sustainable forest management and bio-based products such as engineered timber, "
            "wood-fibre insulation and paper packaging.",
            "Supports the substitution of fossil-based and carbon-intensive materials with sustainably "
            "sourced wood and fibres.",
        ),
        conditions=(
            "Wood and fibres must come from certified sustainably managed forests.",
            "Projects must show the carbon stored in products and the emissions avoided.",
        ),
        carbon_primary=("sustainable_forestry",),
        carbon_secondary=("circular_economy", "biodiversity", "green_buildings"),
        taxonomy=(_BIO, _CCM, _CIRC),
        nace=("A02", "C16", "C17"),
        certifications=("FSC",),
        amount=(50_000, 2_000_000),
        carbon_focus=0.9,
        sme_bias=0.3,
    ),
    "deeptech": _Theme(
        weight=5,
        titles=(
            "Green Deep-Tech Accelerator",
            "Scale-up Support for Clean Technologies",
            "Breakthrough Climate Innovation",
        ),
        funded=(
            "Supports start-ups and SMEs that develop breakthrough clean technologies, from prototype to "
            "market launch.",
            "Combines grant funding with coaching and access to investors for companies scaling climate innovations.",
        ),
        conditions=(
            "Projects must have a validated prototype (TRL 5-6) and a credible commercialisation plan.",
            "Applicants are evaluated on innovation, impact and the strength of the team.",
        ),
        carbon_primary=(
            "renewable_energy",
            "energy_storage",
            "clean_hydrogen",
            "carbon_capture",
            "circular_economy",
            "sustainable_mobility",
            "energy_efficiency",
        ),
        carbon_secondary=(),
        taxonomy=(_CCM, _CIRC),
        nace=(),
        certifications=(),
        amount=(500_000, 2_500_000),
        carbon_focus=0.75,
        sme_bias=0.9,
        nace_share=0.0,
    ),
    "sme_digital": _Theme(
        weight=5,
        titles=(
            "SME Digitalisation Voucher",
            "Industry 4.0 Adoption Support",
            "Cybersecurity and Digital Skills for SMEs",
        ),
        funded=(
            "Co-funds the adoption of digital tools such as ERP, e-commerce, automation and cybersecurity in "
            "small businesses.",
            "Supports SMEs that automate production and connect machines, sensors and business software.",
        ),
        conditions=(
            "Eligible costs include software licences, external consultancy and staff training.",
            "Applications are assessed on a simple first-come, first-served basis.",
        ),
        carbon_primary=(),
        carbon_secondary=(),
        taxonomy=(),
        nace=("C25", "C28", "G46", "J62"),
        certifications=("ISO_27001",),
        amount=(5_000, 100_000),
        carbon_focus=0.0,
        sme_bias=1.0,
        nace_share=0.15,
    ),
    "sme_growth": _Theme(
        weight=5,
        titles=(
            "Export and Internationalisation Support",
            "SME Innovation Project Grant",
            "Research and Development Collaboration Grant",
        ),
        funded=(
            "Supports SMEs entering new export markets with market studies, trade-fair participation and "
            "certification costs.",
            "Funds research and development projects in any sector that create new products, services or processes.",
            "Funds collaborative R&D projects between companies and research organisations that lead to new "
            "products or processes.",
        ),
        conditions=(
            "Projects must show a clear business case and the resources to carry it out.",
            "Collaboration with a research organisation increases the funding rate.",
        ),
        carbon_primary=(),
        carbon_secondary=(),
        taxonomy=(),
        nace=(),
        certifications=("ISO_9001",),
        amount=(20_000, 1_000_000),
        carbon_focus=0.0,
        sme_bias=0.7,
        nace_share=0.0,
    ),
}


@dataclass(frozen=True)
class _Funder:
    name: str
    country: str | None  # None = EU-wide or transnational
    countries: tuple[str, ...]  # eligible countries (empty = all)
    domain: str
    path: str
    currency: str
    call_prefix: str
    scale: float  # multiplier on the theme's typical award
    sme_bias: float
    weight: int
    themes: tuple[str, ...]


def _national(name, country, domain, path, prefix, scale, sme_bias, themes, currency="EUR", weight=3):
    return _Funder(name, country, (country,), domain, path, currency, prefix, scale, sme_bias, weight, themes)


def _eu(name, domain, path, prefix, scale, sme_bias, themes, countries=(), weight=5):
    return _Funder(name, None, countries, domain, path, "EUR", prefix, scale, sme_bias, weight, themes)


_FUNDERS: tuple[_Funder, ...] = (
    _eu("European Innovation Council", "eic.ec.europa.eu", "eic-funding-opportunities/calls", "EIC", 1.0, 0.8,
        ("deeptech", "hydrogen", "storage", "ccus", "digital_climate", "circular", "agrifood", "renewables")),
    _eu("Horizon Europe", "ec.europa.eu",
        "info/funding-tenders/opportunities/portal/screen/opportunities/topic-details", "HORIZON-CL5", 1.5,
        0.05, ("renewables", "hydrogen", "storage", "ccus", "building_renovation", "e_mobility", "water",
               "agrifood", "nature", "adaptation", "digital_climate", "circular")),
    _eu("LIFE Programme", "cinea.ec.europa.eu", "programmes/life/calls", "LIFE", 1.0, 0.05,
        ("circular", "water", "nature", "adaptation", "industrial_efficiency", "building_renovation",
         "agrifood", "green_finance", "forestry")),
    _eu("Innovation Fund", "climate.ec.europa.eu",
        "eu-action/eu-funding-climate-action/innovation-fund/calls", "INNOVFUND", 4.0, 0.0,
        ("renewables", "hydrogen", "ccus", "storage", "industrial_efficiency", "circular"), weight=4),
    _eu("Connecting Europe Facility", "cinea.ec.europa.eu", "programmes/connecting-europe-facility/calls",
        "CEF", 3.0, 0.0, ("e_mobility", "renewables", "hydrogen"), weight=2),
    _eu("EIT InnoEnergy", "www.innoenergy.com", "for-innovators/calls", "EITIE", 0.5, 0.7,
        ("storage", "renewables", "industrial_efficiency", "hydrogen", "building_renovation",
         "digital_climate", "deeptech"), weight=3),
    _eu("Interreg North Sea", "www.interregnorthsea.eu", "calls", "NSR", 0.8, 0.1,
        ("adaptation", "water", "circular", "e_mobility", "hydrogen", "nature"),
        countries=("BE", "DE", "DK", "FR", "NL", "NO", "SE"), weight=2),
    _eu("Interreg Central Europe", "www.interreg-central.eu", "calls", "CE", 0.8, 0.1,
        ("industrial_efficiency", "circular", "e_mobility", "adaptation", "green_finance"),
        countries=("AT", "CZ", "DE", "HR", "HU", "IT", "PL", "SI", "SK"), weight=2),
    _national("KfW", "DE", "www.kfw.de", "inlandsfoerderung/Unternehmen/Energie-und-Umwelt", "KFW", 0.6, 0.3,
              ("industrial_efficiency", "building_renovation", "renewables", "e_mobility", "storage",
               "green_finance", "sme_growth"), weight=4),
    _national("BAFA", "DE", "www.bafa.de", "DE/Energie/Energieeffizienz", "BAFA", 0.3, 0.4,
              ("industrial_efficiency", "building_renovation", "digital_climate", "sme_digital")),
    _national("Bpifrance", "FR", "www.bpifrance.fr", "catalogue-offres", "BPI", 0.5, 0.7,
              ("deeptech", "sme_growth", "circular", "industrial_efficiency", "digital_climate", "hydrogen",
               "green_finance"), weight=4),
    _national("ADEME", "FR", "agirpourlatransition.ademe.fr", "entreprises/aides-financieres", "ADEME", 0.6,
              0.2, ("circular", "industrial_efficiency", "renewables", "e_mobility", "agrifood", "ccus",
                    "nature")),
    _national("RVO", "NL", "www.rvo.nl", "subsidies-financiering", "RVO", 0.5, 0.3,
              ("renewables", "hydrogen", "industrial_efficiency", "building_renovation", "circular",
               "agrifood", "sme_growth", "ccus"), weight=4),
    _national("ENEA", "IT", "www.enea.it", "it/bandi", "ENEA", 0.4, 0.3,
              ("industrial_efficiency", "building_renovation", "renewables", "storage")),
    _national("Invitalia", "IT", "www.invitalia.it", "cosa-facciamo/rafforziamo-le-imprese", "INV", 0.5, 0.6,
              ("sme_growth", "sme_digital", "circular", "agrifood", "renewables")),
    _national("CDTI", "ES", "www.cdti.es", "ayudas", "CDTI", 0.5, 0.4,
              ("sme_growth", "deeptech", "hydrogen", "storage", "digital_climate", "agrifood")),
    _national("IDAE", "ES", "www.idae.es", "ayudas-y-financiacion", "IDAE", 0.5, 0.2,
              ("renewables", "industrial_efficiency", "building_renovation", "e_mobility", "storage",
               "hydrogen")),
    _national("Business Finland", "FI", "www.businessfinland.fi", "en/for-finnish-customers/services/funding",
              "BF", 0.5, 0.5, ("deeptech", "digital_climate", "circular", "hydrogen", "storage", "sme_growth",
                               "forestry")),
    _national("Enterprise Ireland", "IE", "www.enterprise-ireland.com", "en/supports", "EI", 0.3, 0.8,
              ("sme_growth", "sme_digital", "deeptech", "industrial_efficiency", "agrifood")),
    _national("SEAI", "IE", "www.seai.ie", "grants/business-grants", "SEAI", 0.3, 0.3,
              ("building_renovation", "industrial_efficiency", "renewables", "e_mobility")),
    _national("Vinnova", "SE", "www.vinnova.se", "en/calls-for-proposals", "VINNOVA", 0.4, 0.4,
              ("digital_climate", "circular", "e_mobility", "sme_growth", "deeptech", "forestry"),
              currency="SEK"),
    _national("Swedish Energy Agency", "SE", "www.energimyndigheten.se", "en/innovations-r-d/calls", "STEM",
              0.5, 0.2, ("renewables", "storage", "hydrogen", "ccus", "industrial_efficiency", "e_mobility"),
              currency="SEK"),
    _national("NCBR", "PL", "www.gov.pl", "web/ncbr/konkursy", "NCBR", 0.5, 0.5,
              ("sme_growth", "deeptech", "storage", "hydrogen", "circular", "digital_climate"),
              currency="PLN"),
    _national("NFOŚiGW", "PL", "www.gov.pl", "web/nfosigw/nabory", "NFOSIGW", 0.6, 0.2,
              ("renewables", "building_renovation", "industrial_efficiency", "e_mobility", "water",
               "circular", "adaptation"), currency="PLN"),
    _national("Innovation Fund Denmark", "DK", "innovationsfonden.dk", "en/programmes", "IFD", 0.5, 0.5,
              ("deeptech", "digital_climate", "agrifood", "water", "circular", "sme_growth"), currency="DKK"),
    _national("EUDP (Danish Energy Agency)", "DK", "ens.dk",
              "en/our-responsibilities/energy-research-development-and-demonstration", "EUDP", 0.8, 0.2,
              ("renewables", "hydrogen", "storage", "ccus", "industrial_efficiency"), currency="DKK"),
    _national("FFG", "AT", "www.ffg.at", "ausschreibungen", "FFG", 0.4, 0.4,
              ("deeptech", "digital_climate", "industrial_efficiency", "sme_growth", "sme_digital",
               "storage")),
    _national("Klima- und Energiefonds", "AT", "www.klimafonds.gv.at", "call", "KLIEN", 0.5, 0.2,
              ("renewables", "e_mobility", "building_renovation", "storage", "adaptation", "hydrogen")),
    _national("VLAIO", "BE", "www.vlaio.be", "nl/subsidies-financiering", "VLAIO", 0.3, 0.7,
              ("sme_growth", "sme_digital", "industrial_efficiency", "circular", "digital_climate")),
    _national("IAPMEI", "PT", "www.iapmei.pt", "PRODUTOS-E-SERVICOS/Incentivos-Financiamento", "IAPMEI", 0.3,
              0.7, ("sme_growth", "sme_digital", "industrial_efficiency", "circular", "renewables")),
)  # fmt: skip

_EUR_RATE = {"EUR": 1.0, "SEK": 11.5, "DKK": 7.46, "PLN": 4.3}
_SME = ("MICRO", "SMALL", "MEDIUM")
_MICRO_SMALL = ("MICRO", "SMALL")
_FUNDING_RATES = (35, 40, 50, 60, 70, 100)


# The first grants of every catalogue are broad EU-wide calls, one per carbon theme, always open, so that
# every demo company finds an open grant in its field even in a small catalogue. (theme, EU funder indices)
_UMBRELLA_CALLS: tuple[tuple[str, tuple[int, ...]], ...] = tuple(
    (
        key,
        tuple(index for index, funder in enumerate(_FUNDERS) if not funder.countries and key in funder.themes),
    )
    for key, theme in _THEMES.items()
    if theme.carbon_primary
)
assert all(funders for _, funders in _UMBRELLA_CALLS), "every carbon theme needs an EU-wide funder"

# --- helpers ----------------------------------------------------------------------------------------------


def _cum(weights) -> list[float]:
    return list(accumulate(weights))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _nice(value: float) -> int:
    """Round to two significant digits (e.g. 1_234_567 -> 1_200_000)."""
    value = int(value)
    if value < 100:
        return max(value, 1)
    step = 10 ** (len(str(value)) - 2)
    return round(value / step) * step


def _related(a: str, b: str) -> bool:
    """Whether one NACE code contains the other (``F43`` and ``F43.21``) or they are equal."""
    return a.startswith(b) or b.startswith(a)


def _article(word: str) -> str:
    return "An" if word[0] in "AEIOU" else "A"


# --- companies --------------------------------------------------------------------------------------------


def generate_demo_companies(seed: int = 7, count: int = 200) -> list[DemoCompany]:
    """``count`` demo companies spread across :data:`DEMO_TENANTS`, deterministic for ``seed``.

    About 60% belong to ``acme-ventures`` (pan-European), 40% to ``nordic-green`` (mostly Nordic). Names
    are unique within a tenant.
    """
    rng = random.Random(seed)
    sector_cum = _cum(s.weight for s in _SECTORS)
    country_tables = {
        tenant: (tuple(weights), _cum(weights.values())) for tenant, weights in _TENANT_COUNTRY_WEIGHTS.items()
    }
    size_cums = [_cum(s.size_weights) for s in _SECTORS]
    names_by_tenant: dict[str, set[str]] = {tenant: set() for tenant in DEMO_TENANTS}
    companies: list[DemoCompany] = []

    for i in range(count):
        tenant = DEMO_TENANTS[0] if i % 5 in (0, 2, 4) else DEMO_TENANTS[1]
        codes, cum = country_tables[tenant]
        country = rng.choices(codes, cum_weights=cum)[0]
        country_name, adjective, cities, small_forms, large_forms = _COUNTRIES[country]
        city = rng.choice(cities)
        sector_index = rng.choices(range(len(_SECTORS)), cum_weights=sector_cum)[0]
        sector = _SECTORS[sector_index]

        size_index = rng.choices(range(4), cum_weights=size_cums[sector_index])[0]
        if size_index < 3:
            employees = rng.randint(*_SIZE_RANGES[size_index])
        else:
            employees = 250 + int(4750 * rng.random() ** 3)
        size = size_for_headcount(employees)

        # NACE: one primary code, up to two unrelated secondary codes.
        nace = [rng.choice(sector.nace_primary)]
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            code = rng.choice(sector.nace_secondary)
            if not any(_related(code, other) for other in nace):
                nace.append(code)

        carbon = [rng.choice(sector.carbon_primary)]
        if len(sector.carbon_primary) > 1 and rng.random() < 0.5:
            other = rng.choice(sector.carbon_primary)
            if other not in carbon:
                carbon.append(other)
        carbon.extend(c for c in sector.carbon_secondary if rng.random() < 0.3 and c not in carbon)

        factor = _SIZE_CERT_FACTOR[size_index]
        certifications = tuple(cert for cert, p in sector.certifications if rng.random() < p * factor)

        taxonomy = [rng.choice(sector.taxonomy_primary)]
        if len(sector.taxonomy_primary) > 1 and rng.random() < 0.5:
            taxonomy = list(sector.taxonomy_primary)
        taxonomy.extend(t for t in sector.taxonomy_secondary if rng.random() < 0.35 and t not in taxonomy)

        legal_forms = large_forms if size == "LARGE" else small_forms
        name = _company_name(rng, sector, city, legal_forms, names_by_tenant[tenant])

        bits = rng.getrandbits(32)
        values = {
            "country": country_name,
            "city": city,
            "mw": 5 + (bits & 0x7F) * 5,
            "n": 12 + (bits >> 7) % 880,
            "pct": 15 + ((bits >> 17) % 10) * 5,
            "kt": 2 + (bits >> 21) % 249,
        }
        sentences = [
            f"{_article(adjective)} {adjective} {sector.noun} that "
            + rng.choice(sector.activities).format(**values)
            + ".",
            rng.choice(sector.focuses).format(**values),
        ]
        if rng.random() < 0.5:
            sentences.append(rng.choice(sector.customers).format(**values))

        companies.append(
            DemoCompany(
                tenant=tenant,
                name=name,
                country=country,
                nace_codes=tuple(nace),
                size=size,
                employees=employees,
                description=" ".join(sentences),
                carbon_categories=tuple(carbon),
                certifications=certifications,
                taxonomy_objectives=tuple(taxonomy),
            )
        )
    return companies


def _company_name(rng: random.Random, sector: _Sector, city: str, legal_forms: tuple[str, ...], taken: set[str]) -> str:
    legal = rng.choice(legal_forms)
    for attempt in range(6):
        stem = rng.choice(_NAME_STEMS)
        word = rng.choice(sector.name_words)
        name = f"{stem} {word} {legal}" if attempt < 4 else f"{stem} {word} {city} {legal}"
        if name not in taken:
            taken.add(name)
            return name
    number = 2
    while f"{stem} {word} {city} {number} {legal}" in taken:
        number += 1
    name = f"{stem} {word} {city} {number} {legal}"
    taken.add(name)
    return name


# --- grants -----------------------------------------------------------------------------------------------


def generate_demo_grants(seed: int = 7, count: int = 300) -> list[DemoGrant]:
    """``count`` demo grants from EU and national funders, deterministic for ``seed``.

    Deadlines are relative to the caller's "today": about 15% rolling (``None``), 5% already closed
    (negative), 13% within 30 days, half between 30 and 180 days and the rest later. The first grants
    (one per carbon theme) are open EU-wide umbrella calls, so every demo company has something to match.
    """
    rng = random.Random(seed)
    funder_cum = _cum(f.weight for f in _FUNDERS)
    theme_tables = [(f.themes, _cum(_THEMES[t].weight for t in f.themes)) for f in _FUNDERS]
    calls_per_funder = [0] * len(_FUNDERS)
    slugs: dict[str, str] = {}
    grants: list[DemoGrant] = []

    for i in range(count):
        umbrella = i < len(_UMBRELLA_CALLS)
        if umbrella:
            theme_key, funder_choices = _UMBRELLA_CALLS[i]
            funder_index = rng.choice(funder_choices)
            theme = _THEMES[theme_key]
        else:
            funder_index = rng.choices(range(len(_FUNDERS)), cum_weights=funder_cum)[0]
            theme_keys, theme_cum = theme_tables[funder_index]
            theme = _THEMES[rng.choices(theme_keys, cum_weights=theme_cum)[0]]
        funder = _FUNDERS[funder_index]

        # Deadline spread.
        u = rng.random()
        if u < 0.15:
            deadline: int | None = None
        elif u < 0.20:
            deadline = -rng.randint(1, 90)
        elif u < 0.33:
            deadline = rng.randint(0, 30)
        elif u < 0.85:
            deadline = rng.randint(31, 180)
        else:
            deadline = rng.randint(181, 420)

        # Eligibility.
        p_sme = theme.sme_bias if theme.sme_bias >= 0.9 else (theme.sme_bias + funder.sme_bias) / 2
        r = rng.random()
        if r < p_sme:
            sizes: tuple[str, ...] = _MICRO_SMALL if theme is _THEMES["sme_digital"] and r < 0.3 else _SME
        else:
            sizes = ()
        nace: tuple[str, ...] = ()
        if theme.nace and rng.random() < theme.nace_share:
            picked = rng.sample(theme.nace, min(len(theme.nace), rng.randint(1, 3)))
            # Keep the theme's order and drop codes already covered by a broader picked code.
            nace = tuple(
                code
                for code in theme.nace
                if code in picked and not any(code != other and code.startswith(other) for other in picked)
            )

        carbon: list[str] = []
        if theme.carbon_primary:
            carbon.append(rng.choice(theme.carbon_primary))
            if len(theme.carbon_primary) > 1 and rng.random() < 0.4:
                other = rng.choice(theme.carbon_primary)
                if other not in carbon:
                    carbon.append(other)
            carbon.extend(c for c in theme.carbon_secondary if rng.random() < 0.3 and c not in carbon)
        taxonomy: tuple[str, ...] = ()
        if theme.taxonomy and rng.random() < 0.85:
            taxonomy = (theme.taxonomy[0], *(t for t in theme.taxonomy[1:] if rng.random() < 0.4))
        certifications: tuple[str, ...] = ()
        if theme.certifications and rng.random() < 0.3:
            certifications = tuple(c for c in theme.certifications if rng.random() < 0.6) or (theme.certifications[0],)
        is_carbon_focused = rng.random() < theme.carbon_focus
        if umbrella:  # broad, open, carbon-focused call covering the whole theme
            deadline = None if deadline is None else 45 + deadline % 180
            sizes = nace = ()
            carbon = list(theme.carbon_primary + theme.carbon_secondary)
            is_carbon_focused = True

        # Amounts, in the funder's currency.
        rate = _EUR_RATE[funder.currency]
        if rng.random() < 0.06:
            amount_min = amount_max = None
        else:
            low, high = theme.amount
            amount_max = _nice(rng.uniform(low, high) * funder.scale * rate)
            amount_min = _nice(amount_max * rng.uniform(0.02, 0.25)) if rng.random() < 0.6 else None

        # Text.
        variant_index = rng.randrange(len(theme.titles))
        variant = theme.titles[variant_index]
        calls_per_funder[funder_index] += 1
        year = 2025 + (1 if deadline is not None and deadline > 180 else rng.randint(0, 1))
        call_id = f"{funder.call_prefix}-{year}-{calls_per_funder[funder_index]:03d}"
        title = f"{variant} ({call_id})"
        slug = slugs.get(variant) or slugs.setdefault(variant, _slug(variant))
        url = f"https://{funder.domain}/{funder.path}/{slug}-{call_id.lower()}"

        if sizes == _MICRO_SMALL:
            who = "micro and small enterprises"
        elif sizes:
            who = "SMEs"
        elif funder.country is None:
            who = "companies of all sizes, research organisations and consortia"
        else:
            who = "companies of all sizes"
        if funder.country is not None:
            where = f"in {_COUNTRIES[funder.country][0]}"
        elif funder.countries:
            where = f"in the {funder.name} programme area ({', '.join(funder.countries)})"
        else:
            where = "in any EU Member State or associated country"
        sentences = [
            theme.funded[variant_index % len(theme.funded)],
            rng.choice(theme.conditions),
            f"Open to {who} established {where}.",
        ]
        if rng.random() < 0.5:
            sentences.append(f"Support covers up to {rng.choice(_FUNDING_RATES)}% of eligible costs.")

        grants.append(
            DemoGrant(
                title=title,
                description=" ".join(sentences),
                funder=funder.name,
                countries=funder.countries,
                nace_codes=nace,
                sizes=sizes,
                carbon_categories=tuple(carbon),
                certifications=certifications,
                taxonomy_objectives=taxonomy,
                is_carbon_focused=is_carbon_focused,
                deadline_in_days=deadline,
                amount_min=amount_min,
                amount_max=amount_max,
                currency=funder.currency,
                url=url,
            )
        )
    return grants
