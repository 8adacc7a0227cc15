"""Deterministic demo data for the talent domain: organisations (one per demo tenant), jobs and members."""

from __future__ import annotations

import random
from dataclasses import dataclass

from graphql_app.matching.traits import WORK_STYLE_TRAITS

SKILLS = (
    "python",
    "sql",
    "typescript",
    "react",
    "go",
    "kubernetes",
    "data analysis",
    "machine learning",
    "energy modelling",
    "project management",
    "stakeholder management",
    "cad",
    "lca",
    "gis",
    "sales",
    "product management",
    "ux research",
    "rust",
    "c++",
    "embedded systems",
)
VALUES = (
    "sustainability",
    "curiosity",
    "ownership",
    "kindness",
    "craft",
    "transparency",
    "impact",
    "learning",
    "autonomy",
    "inclusion",
)
FIRST = (
    "Ana",
    "Ben",
    "Chiara",
    "Dmitri",
    "Elif",
    "Finn",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kaja",
    "Luca",
    "Maja",
    "Nils",
    "Oona",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sami",
    "Tove",
)
LAST = (
    "Berg",
    "Costa",
    "Dubois",
    "Eriksson",
    "Fischer",
    "García",
    "Horvat",
    "Jansen",
    "Kowalski",
    "Laine",
    "Moreau",
    "Novak",
    "Olsen",
    "Rossi",
    "Schmidt",
    "Virtanen",
)

ORGANISATIONS = {
    "acme-ventures": {
        "name": "Acme Ventures",
        "values": ["impact", "ownership", "transparency", "learning"],
        "culture_statement": "A fast-moving climate-tech studio: small teams own problems end to end, "
        "share work early and learn in public.",
        "team_trait_norms": {
            "collaborative_orientation": (0.75, 0.2),
            "pressure_response": (0.65, 0.2),
            "autonomy": (0.7, 0.25),
            "learning_agility": (0.75, 0.2),
        },
        "team_skills": ["python", "sql", "react"],
        "jobs": [
            (
                "Senior Data Engineer",
                {"python": 3, "sql": 3, "kubernetes": 1, "data analysis": 1},
                {"strategic_thinking": 0.7, "attention_to_detail": 0.8, "collaborative_orientation": 0.7},
            ),
            (
                "Energy Modelling Analyst",
                {"energy modelling": 3, "python": 2, "data analysis": 2},
                {"attention_to_detail": 0.8, "cognitive_flexibility": 0.7, "communication_clarity": 0.7},
            ),
            (
                "Product Manager, Grants",
                {"product management": 3, "stakeholder management": 2, "ux research": 1},
                {"strategic_thinking": 0.8, "communication_clarity": 0.8, "pressure_response": 0.7},
            ),
        ],
    },
    "nordic-green": {
        "name": "Nordic Green",
        "values": ["sustainability", "kindness", "craft", "inclusion"],
        "culture_statement": "A calm Nordic engineering firm: thoughtful, consensus-driven, with deep craft in "
        "building-energy and circular-economy projects.",
        "team_trait_norms": {
            "collaborative_orientation": (0.85, 0.15),
            "empathy": (0.8, 0.2),
            "attention_to_detail": (0.75, 0.2),
        },
        "team_skills": ["cad", "lca", "project management"],
        "jobs": [
            (
                "Life-Cycle Assessment Specialist",
                {"lca": 3, "data analysis": 2, "sustainability reporting": 1},
                {"attention_to_detail": 0.85, "strategic_thinking": 0.6, "empathy": 0.6},
            ),
            (
                "Embedded Engineer, Heat Pumps",
                {"embedded systems": 3, "c++": 3, "rust": 1},
                {"attention_to_detail": 0.8, "resilience": 0.7, "collaborative_orientation": 0.8},
            ),
        ],
    },
}


@dataclass(frozen=True)
class DemoMember:
    display_name: str
    headline: str
    bio: str
    skills: tuple[str, ...]
    values: tuple[str, ...]
    traits: dict[str, float]
    profile_completeness: float


def generate_demo_members(seed: int = 7, count: int = 60) -> list[DemoMember]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        name = f"{FIRST[i % len(FIRST)]} {LAST[(i * 7 + rng.randrange(len(LAST))) % len(LAST)]}"
        skills = tuple(sorted(rng.sample(SKILLS, rng.randint(2, 6))))
        values = tuple(sorted(rng.sample(VALUES, rng.randint(2, 4))))
        traits = {t: round(min(1.0, max(0.0, rng.gauss(0.65, 0.18))), 2) for t in rng.sample(WORK_STYLE_TRAITS, 7)}
        style = "calm and collaborative" if traits.get("collaborative_orientation", 0.5) > 0.7 else "independent"
        out.append(
            DemoMember(
                display_name=name,
                headline=f"{skills[0].title()} and {skills[-1]} specialist",
                bio=f"I am {style}, care about {values[0]} and {values[-1]}, and have worked with "
                f"{', '.join(skills)} on climate-related projects.",
                skills=skills,
                values=values,
                traits=traits,
                profile_completeness=round(rng.uniform(0.4, 1.0), 2),
            )
        )
    return out
