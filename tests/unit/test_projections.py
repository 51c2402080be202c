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
        "EMAIL#ann@example.com",
        "SOURCE#talent-network",
        "SOURCE#api",
        "TAG#python",
        "TAG#aws",
        "POOL#p1",
        "SEARCH#first",
        "SEARCH#last",
        "SEARCH#email",
    }
    assert dims["TAG#python"] == ("CANDTAG#python", "2026-01-01T00:00:00.000000Z#c1")
    assert dims["SEARCH#last"] == ("CANDSEARCH", "lee#c1")


def test_projection_items_carry_the_summary_but_not_private_fields():
    items = projection_items(CANDIDATE)
    assert all(i["pk"] == "CAND#c1" and i["sk"].startswith("LIST#") for i in items)
    assert all("phone" not in i and "consents" not in i for i in items)
    assert {i["version"] for i in items} == {3}


def test_filters_choose_the_most_selective_index_and_filter_the_rest():
    q = candidate_list_query(CandidateFilter(tag="python", source="api"))
    assert q["values"][":pk"] == {"S": "CANDTAG#python"}
    assert q["filter_expression"] == "contains(sources, :fsource)"
    q = candidate_list_query(CandidateFilter(q="Zoë"))
    assert q["key_condition"].startswith("gsi1pk = :pk AND begins_with")
    assert q["values"][":q"] == {"S": "zoe"}
    assert candidate_list_query(CandidateFilter())["values"][":pk"] == {"S": "CANDS"}
