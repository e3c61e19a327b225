"""The learned name-to-title linker (indexer/official_linker.py) and its training script."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench.data import shared_dir
from indexer import official_linker
from indexer.officials import extract_officials


def contexts(text: str, title: str | None = None) -> tuple[list, official_linker.Context]:
    """The rules' officials of ``text`` and the context the hook hands the linker."""
    seen: list[official_linker.Context] = []
    found = extract_officials(title, text, linker=lambda ctx: seen.append(ctx) or [])
    assert len(seen) == 1
    return found, seen[0]


def linked_alone(text: str, title: str | None = None) -> list[str]:
    """What the committed linker finds when the rules are taken to have found nobody."""
    _, ctx = contexts(text, title)
    ctx.found = []
    return [o.name for o in official_linker.link(ctx)]


def test_committed_model_matches_the_features():
    model = official_linker.load_model()
    assert model is not None
    assert model.weights.shape == model.mean.shape == (len(official_linker.FEATURES),)
    assert 0.0 < model.threshold < 1.0


def title_model(**weights: float) -> official_linker.Model:
    """A hand-made model: the named features' weights, bias -1, threshold 0.5."""
    w = np.zeros(len(official_linker.FEATURES))
    for name, value in weights.items():
        w[official_linker.FEATURES.index(name)] = value
    n = len(w)
    return official_linker.Model(np.zeros(n), np.ones(n), w, -1.0, 0.5)


ARTICLE = (
    "Chiều 5/3, Đại tá Nguyễn Văn Bình, Giám đốc Công an tỉnh, đã kiểm tra hiện trường. "
    "Theo bản tường trình của lái xe Nguyễn Trung Dũng, xe này được Cục Cảnh sát "
    "(Bộ Công an) điều đi. Giám đốc Công ty TNHH Hoàng Long Nguyễn Văn Tâm cho biết "
    "hàng đã giao. Tổng giám đốc Samsung Electronics Lee Jae-yong nói. Chủ tịch CLB "
    "Chelsea Roman Abramovich và ông Phạm Văn Cường, giám đốc Công ty Sông Đà, "
    "cũng có mặt. Trưởng công an xã Nguyễn Được và Chủ tịch UBND xã Phạm Văn Quyền "
    "cho rằng những vết thương là do ngã."
)


def test_a_title_of_a_public_body_links_the_name_the_rules_missed():
    found, ctx = contexts(ARTICLE)
    taken = {o.name for o in found}
    model = title_model(title_before=2.0, public_near=1.0, title_business=-4.0)
    linked = {o.name: o for o in official_linker.link(ctx, model)}
    assert "Nguyễn Trung Dũng" in linked  # "lái xe" of "Cục Cảnh sát"
    assert linked["Nguyễn Trung Dũng"].positions[0].startswith("lái xe")
    assert not set(linked) & taken
    # a company's director, a club's chairman: business titles, not linked
    assert not {"Nguyễn Văn Tâm", "Roman Abramovich", "Phạm Văn Cường"} & set(linked)


def test_organisation_and_brand_spans_are_no_candidates():
    _, ctx = contexts(ARTICLE)
    names = {c.name for c in official_linker.candidates(ctx, taken_too=True)}
    assert {"Nguyễn Trung Dũng", "Nguyễn Văn Tâm", "Lee Jae-yong", "Roman Abramovich"} <= names
    brands = {"Hoàng Long", "Samsung Electronics", "Electronics", "Chelsea"}
    assert not names & brands
    assert not any(n.split()[0] in {"Samsung", "Chelsea", "Công", "TNHH", "CLB"} for n in names)


def test_the_committed_model_links_no_business_or_brand_name():
    linked = {o.name for o in extract_officials(None, ARTICLE)}
    assert not linked & {"Nguyễn Văn Tâm", "Phạm Văn Cường", "Hoàng Long", "Roman Abramovich"}
    assert not linked & {"Samsung Electronics", "Chelsea Roman Abramovich"}


def test_only_names_the_rules_did_not_take_are_candidates():
    # (a junior title right after an official's name in a list is the rules' own: the driver
    # is written in a sentence of his own here)
    text = "Thủ tướng Phan Văn Khải đã tới. Lái xe Nguyễn Trung Dũng của Bộ Công an chờ sẵn."
    found, ctx = contexts(text)
    taken = {o.name for o in found}
    names = {c.name for c in official_linker.candidates(ctx)}
    assert names and not names & taken
    everyone = {c.name for c in official_linker.candidates(ctx, taken_too=True)}
    assert taken <= everyone


def test_hook_adds_nothing_when_no_candidate_passes(monkeypatch):
    text = (
        "Theo bản tường trình của lái xe Nguyễn Trung Dũng, xe này được Cục Cảnh sát "
        "(Bộ Công an) điều đi. Thủ tướng Phan Văn Khải yêu cầu kiểm điểm."
    )
    rules_only = [o.name for o in extract_officials(None, text, linker=False)]
    model = official_linker.load_model()
    closed = official_linker.Model(model.mean, model.scale, model.weights, model.bias, 1.01)
    monkeypatch.setattr(official_linker, "load_model", lambda: closed)
    assert [o.name for o in extract_officials(None, text)] == rules_only
    monkeypatch.setattr(official_linker, "load_model", lambda: None)
    assert [o.name for o in extract_officials(None, text)] == rules_only


def test_linked_officials_follow_the_rules_ones_with_their_nearest_title():
    text = (
        "Thủ tướng Phan Văn Khải yêu cầu kiểm điểm. Theo bản tường trình của lái xe "
        "Nguyễn Trung Dũng, xe này được Cục Cảnh sát (Bộ Công an) điều đi."
    )
    rules_only = [o.name for o in extract_officials(None, text, linker=False)]
    found = extract_officials(None, text)
    assert [o.name for o in found[: len(rules_only)]] == rules_only
    for o in found[len(rules_only) :]:
        assert o.positions and all(p.strip() for p in o.positions)


def test_model_file_for_other_features_is_refused(tmp_path):
    path = tmp_path / "model.json"
    data = json.loads(official_linker.MODEL_PATH.read_text(encoding="utf-8"))
    data["features"] = data["features"][:-1]
    path.write_text(json.dumps(data), encoding="utf-8")
    official_linker.load_model.cache_clear()
    try:
        with pytest.raises(ValueError, match="retrain"):
            official_linker.load_model(path)
    finally:
        official_linker.load_model.cache_clear()


def test_scores_are_the_logistic_of_the_standardised_dot_product():
    model = official_linker.Model(
        np.array([1.0, 0.0]), np.array([2.0, 1.0]), np.array([0.5, -1.0]), 0.25, 0.5
    )
    x = np.array([[3.0, 1.0], [1.0, 0.0]])
    z = np.array([(3 - 1) / 2 * 0.5 - 1.0 + 0.25, 0.25])
    assert np.allclose(model.scores(x), 1 / (1 + np.exp(-z)))


@pytest.fixture(scope="module")
def tune_rows():
    if not (shared_dir() / "corpus").is_dir():
        pytest.skip(f"shared corpus not found at {shared_dir() / 'corpus'}")
    pytest.importorskip("sklearn")
    from bench import train_official_linker

    return train_official_linker.collect()  # the tune split only


def test_committed_weights_are_what_the_training_script_produces(tune_rows):
    from bench import train_official_linker

    fresh = train_official_linker.train(
        tune_rows, train_official_linker.MAX_PRECISION_LOSS, log=lambda *a: None
    )
    fresh = json.loads(train_official_linker.render(fresh))
    committed = json.loads(official_linker.MODEL_PATH.read_text(encoding="utf-8"))
    hint = "retrain: python -m bench.train_official_linker"
    assert fresh.keys() == committed.keys(), hint
    for key, value in committed.items():
        if key in {"mean", "scale", "weights", "bias"}:  # floats: the last digits may vary
            assert np.allclose(fresh[key], value, rtol=0, atol=1e-4), f"{key}: {hint}"
        else:
            assert fresh[key] == value, f"{key}: {hint}"


def test_on_tune_the_linker_finds_labelled_officials_the_rules_missed(tune_rows):
    model = official_linker.load_model()
    added = right = 0
    for row in tune_rows:
        fresh = [c for c in row.candidates if not c.taken]
        assert all(c.key not in row.found for c in fresh)
        if fresh:
            p = model.scores(np.stack([c.features for c in fresh]))
            kept = [c.key for c, s in zip(fresh, p, strict=True) if s >= model.threshold]
            added += len(kept)
            right += len(set(kept) & row.gold)
    assert right >= 1  # names in shapes the rules miss
    assert right >= (added - right) / 3  # and not mostly wrong ones


def test_a_sentence_opener_a_possessive_or_a_country_is_no_candidate():
    text = (
        "Thủ tướng Phan Văn Khải nói. Theo Reuters, Bộ trưởng Ngoại giao Mỹ John Kerry đã "
        "tới. Tại Hàn Quốc, Tổng thống Moon Jae-in tiếp ông. Cảnh sát Shepherd's Bush "
        "cho biết. Trong khi đó Bộ trưởng Phạm Gia Khiêm nói."
    )
    _, ctx = contexts(text)
    names = {c.name for c in official_linker.candidates(ctx, taken_too=True)}
    assert {"John Kerry", "Moon Jae-in"} <= names
    assert not names & {"Theo Reuters", "Reuters", "Tại Hàn Quốc", "Hàn Quốc", "Shepherd's Bush"}


def test_a_linked_name_is_given_the_title_before_it_up_to_the_name():
    text = "Thủ tướng Phan Văn Khải nói. Phó vụ trưởng Vụ Pháp chế Lê Văn Tâm, tỷ lệ tăng."
    _, ctx = contexts(text)
    ctx.found = []
    model = title_model(title_before=5.0)
    linked = {o.name: o.positions for o in official_linker.link(ctx, model)}
    assert linked["Lê Văn Tâm"] == ["Phó vụ trưởng Vụ Pháp chế"]
