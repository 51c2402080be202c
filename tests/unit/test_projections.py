from crm.candidates.models import CandidateFilter
from crm.candidates.repository.projections import candidate_list_query, dimensions, projection_items

CANDIDATE = {
    "id": "c1",
    "email": "ann@example.com",
    "first_name": "Ann",
    "last_name": "Lee",
    "location": "Berlin",
    "tags": ["python", "aws"],
    "source": "talent-network",
    "sources": ["talent-network", "api"],
    "pools": {"p1": "interview"},
    "version": 3,
    "created_at": "2026-01-01T00:00:00.000000Z",
    "updated_at": "2026-01-02T00:00:00.000000Z",
    "phone": "+49 1",
    "consents": {},
}


def test_one_projection_per_way_to_list():
    dims = dimensions(CANDIDATE)
    assert set(dims) == {
        "ALL",
        "BYNAME",
        "BYACTIVITY",
        "EMAIL#ann@example.com",
        "SOURCE#talent-network",
        "SOURCE#api",
        "TAG#python",
        "TAG#aws",
        "POOL#p1",
        "SEARCH#first",
        "SEARCH#last",
        "SEARCH#email",
        "SEARCH#tag.0",
        "SEARCH#tag.1",
        "SEARCH#loc.0",
        "DUP#nameplace",  # merges: possible duplicates by name and place
    }
    assert dims["TAG#python"] == ("CANDTAG#python", "2026-01-01T00:00:00.000000Z#c1")
    assert dims["SEARCH#last"] == ("CANDSEARCH", "lee#c1")
    assert dims["BYNAME"][0] == "CANDSBYNAME" and dims["BYNAME"][1].startswith("lee ")


def test_projection_items_carry_the_summary_but_not_private_fields():
    items = projection_items(CANDIDATE)
    assert all(i["pk"] == "CAND#c1" and i["sk"].startswith("LIST#") for i in items)
    assert all("phone" not in i and "consents" not in i for i in items)
    assert {i["version"] for i in items} == {3}


def test_filters_choose_the_most_selective_index_and_filter_the_rest():
    q = candidate_list_query(CandidateFilter(tag="python", source="api"))
    assert q["values"][":pk"] == {"S": "CANDTAG#python"}
    assert q["filter_expression"] == "(contains(sources, :fsource0))"
    q = candidate_list_query(CandidateFilter(q="Zoë"))
    assert q["key_condition"].startswith("gsi1pk = :pk AND begins_with")
    assert q["values"][":q"] == {"S": "zoe"}
    assert candidate_list_query(CandidateFilter())["values"][":pk"] == {"S": "CANDS"}


# ------------------------------------------------------------------ q: the start of a word


def person(
    first: str, last: str, email: str, tags: list[str] | None = None, location: str | None = None
) -> dict:
    return {"first_name": first, "last_name": last, "email": email, "tags": tags or [], "location": location}


def test_every_word_of_q_starts_a_term_of_the_person() -> None:
    from crm.candidates.repository.projections import q_matches

    finn = person("Finn", "de Wit", "fin@sample.org", ["python", "machine learning"], "San Francisco, CA")
    assert q_matches("wi", finn)  # the second word of a name
    assert q_matches("DE W", finn)  # two words, each a start
    assert q_matches("fin@s", finn)
    assert q_matches("python francisco", finn)  # a tag and a word of the location
    assert q_matches("learn pyth", finn) and q_matches("ca", finn)
    assert q_matches("finn de", finn)  # words may match different fields
    assert not q_matches("python berlin", finn)  # every word must match
    assert not q_matches("sample", finn)  # the domain is not a word start
    assert not q_matches("e", person("Ana", "Berg", "ana@example.com"))  # inside a word is not a start
    assert q_matches("dó", person("Dora", "E", "d@x.org")) and q_matches("do", person("Dóra", "E", "d@x.org"))


def test_a_name_search_lists_each_person_once_by_their_first_matching_term() -> None:
    from crm.candidates.repository.projections import is_listed_search_entry, projection_items

    eve = {**CANDIDATE, "first_name": "Eve", "last_name": "Evans", "email": "eve@example.com"}
    entries = [i for i in projection_items(eve) if i["gsi1pk"] == "CANDSEARCH"]
    kinds = sorted(i["sk"].rpartition("#")[2] for i in entries)
    assert kinds == ["email", "first", "last", "loc.0", "tag.0", "tag.1"]
    for q, kind in (("ev", "first"), ("evans", "last"), ("eve@", "email")):
        assert [i["sk"].rpartition("#")[2] for i in entries if is_listed_search_entry(i, q)] == [kind], q


def test_a_combined_q_is_a_filter_on_the_start_of_a_term() -> None:
    from crm.candidates.repository.projections import TERM_SEPARATOR, search_text

    q = candidate_list_query(CandidateFilter(tag="python", q="Le"))
    assert q["filter_expression"] == "contains(#search, :fq0)"
    assert q["values"][":fq0"] == {"S": TERM_SEPARATOR + "le"}
    # Alone, the longest word leads the index Query and the others are filtered.
    q = candidate_list_query(CandidateFilter(q="python Berlin"))
    assert q["values"][":q"] == {"S": "python"} and q["values"][":fq0"] == {"S": TERM_SEPARATOR + "berlin"}
    terms = search_text(person("Ann", "de Wit", "a@x.org", ["go"], "Berlin")).split(TERM_SEPARATOR)[1:]
    assert terms == ["ann", "de wit", "wit", "a@x.org", "go", "berlin"]
