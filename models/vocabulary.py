"""Fixed vocabularies of the data model (SPEC §5): themes, statuses, places."""

from __future__ import annotations

from typing import Final

# Theme slug -> Norwegian label shown to users.
THEMES: Final[dict[str, str]] = {
    "arbeidsinkludering": "Arbeidsinkludering",
    "eldre": "Eldre",
    "barn-og-unge": "Barn og unge",
    "skole-og-oppvekst": "Skole og oppvekst",
    "flyktninger-og-integrering": "Flyktninger og integrering",
    "helse-og-rus": "Helse og rus",
    "bolig-og-nærmiljø": "Bolig og nærmiljø",
    "miljø-og-klima": "Miljø og klima",
    "kultur-og-fritid": "Kultur og fritid",
    "frivillighet": "Frivillighet",
}

LANGUAGES: Final[dict[str, str]] = {"nb": "bokmål", "nn": "nynorsk", "en": "engelsk"}

CHALLENGE_STATUSES: Final[tuple[str, ...]] = ("draft", "open", "closed")

PROPOSAL_ORIGINS: Final[tuple[str, ...]] = ("system", "entrepreneur", "staff")

# Proposal status flow (SPEC §5): status -> statuses it may move to.
PROPOSAL_TRANSITIONS: Final[dict[str, tuple[str, ...]]] = {
    "proposed": ("approved", "rejected"),
    "approved": ("contacted",),
    "contacted": ("in_dialogue",),
    "in_dialogue": ("agreement", "closed"),
    "rejected": (),
    "agreement": (),
    "closed": (),
}

ENTREPRENEUR_STAGES: Final[tuple[str, ...]] = ("idé", "oppstart", "etablert", "skalering")

ORGANISATION_KINDS: Final[tuple[str, ...]] = ("kommune", "bydel", "etat", "annet")

WHOLE_COUNTRY: Final = "Hele landet"

OSLO_BYDELER: Final[tuple[str, ...]] = (
    "Bydel Alna",
    "Bydel Bjerke",
    "Bydel Frogner",
    "Bydel Gamle Oslo",
    "Bydel Grorud",
    "Bydel Grünerløkka",
    "Bydel Nordre Aker",
    "Bydel Nordstrand",
    "Bydel Sagene",
    "Bydel St. Hanshaugen",
    "Bydel Stovner",
    "Bydel Søndre Nordstrand",
    "Bydel Ullern",
    "Bydel Vestre Aker",
    "Bydel Østensjø",
)

# Oslo kommune's agencies appear in the data by name alone ("Bymiljøetaten").
OSLO_ETATER: Final[tuple[str, ...]] = (
    "Bymiljøetaten",
    "Helseetaten",
    "Kulturetaten",
    "Utdanningsetaten",
    "Velferdsetaten",
    "Sykehjemsetaten",
    "Boligbygg Oslo KF",
    "Næringsetaten",
)

# Kommunenummer (2024 numbering) for the kommuner the demo data uses.
KOMMUNENUMMER: Final[dict[str, str]] = {
    "Oslo": "0301",
    "Bærum": "3201",
    "Asker": "3203",
    "Nordre Follo": "3207",
    "Arendal": "4203",
    "Steinkjer": "5006",
}

ROLES: Final[tuple[str, ...]] = ("admin", "reviewer", "municipal", "entrepreneur", "organiser")

# Fixed list of rejection reasons (public procurement: reasons must be comparable).
REJECTION_REASONS: Final[dict[str, str]] = {
    "utenfor-behovet": "Tilbudet dekker ikke behovet",
    "kapasitet": "Entreprenøren mangler kapasitet nå",
    "geografi": "Arbeider ikke i området",
    "allerede-dekket": "Behovet er allerede dekket",
    "anskaffelse": "Må løses gjennom en ordinær anskaffelse",
    "annet": "Annet (se begrunnelse)",
}

OUTCOMES: Final[dict[str, str]] = {
    "pilot": "Pilot",
    "contract": "Kontrakt",
    "nothing": "Ingen videre samarbeid",
}
