import json

import pytest

from proactive.data.qulac import load_qulac
from proactive.errors import ProactiveError


def test_qulac_loads_into_masked_tasks(qulac_path):
    facets = load_qulac(qulac_path)
    assert len(facets) == 762
    assert sum(len(f.pairs) for f in facets) == 10277
    assert len({f.partial.meta["topic_id"] for f in facets}) == 198
    first = facets[0]
    assert first.partial.request == "obama family tree"
    assert first.facet.statement == 'Find the TIME magazine photo essay "Barack Obama\'s Family Tree".'
    assert len(first.partial.hidden_facts) == 1 and first.pairs[0].question and first.pairs[0].answer


def test_qulac_text_is_unescaped(qulac_path):
    facets = load_qulac(qulac_path)
    texts = [f.facet.statement for f in facets] + [p.answer for f in facets for p in f.pairs]
    assert not any("\\'" in t or '\\"' in t for t in texts)


def test_missing_or_wrong_qulac_file(tmp_path):
    with pytest.raises(ProactiveError, match="Qulac file not found"):
        load_qulac(tmp_path / "qulac.json")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"topic": {}}))
    with pytest.raises(ProactiveError, match="not a Qulac file, columns missing: topic_id"):
        load_qulac(wrong)
    wrong.write_text("{")
    with pytest.raises(ProactiveError, match="not valid JSON"):
        load_qulac(wrong)
