"""The synthetic ratings of chapter 9: shapes, density, range, seeding, and a genre structure
that a simple item similarity can find; the cosine-similarity and top-k helpers."""
import numpy as np
import pytest

from course_tools.ratings import cosine_similarity, make_ratings, split_ratings, top_k


@pytest.fixture(scope="module")
def data():
    return make_ratings()


def test_shapes_names_and_genres(data):
    assert data.ratings.shape == (800, 60) and data.ratings.dtype == np.float64
    assert len(data.titles) == len(set(data.titles)) == 60
    assert data.genre_names == ["Comedy", "Drama", "Horror", "Romance", "Sci-fi", "Western"]
    assert data.genres.shape == (60,) and np.array_equal(np.bincount(data.genres), [10] * 6)
    for title, genre in zip(data.titles, data.genres):
        assert title.startswith(data.genre_names[genre] + " film ")
    assert data["ratings"] is data.ratings
    assert sorted(data.titles)[:2] == ["Comedy film 1", "Comedy film 10"]
    assert not np.array_equal(data.genres, np.sort(data.genres))          # shuffled, not in blocks


def test_density_and_range(data):
    rated = data.rated
    assert np.array_equal(rated, ~np.isnan(data.ratings))
    assert 0.13 < rated.mean() < 0.17
    assert rated.sum(axis=1).min() >= 2 and rated.sum(axis=0).min() >= 50
    given = data.ratings[rated]
    assert set(np.unique(given)) == {1.0, 2.0, 3.0, 4.0, 5.0}          # whole stars, every one used
    assert 2.7 < given.mean() < 3.5
    ratings = make_ratings(n_users=50, n_items=20, n_genres=4, density=0.5, seed=1)
    assert ratings.rated.mean() == pytest.approx(0.5, abs=0.05)


def test_reproducible_by_seed():
    a, b, c = make_ratings(seed=3), make_ratings(seed=3), make_ratings(seed=4)
    np.testing.assert_array_equal(a.ratings, b.ratings)
    assert a.titles == b.titles and np.array_equal(a.genres, b.genres)
    assert not np.array_equal(np.isnan(a.ratings), np.isnan(c.ratings))
    assert not np.array_equal(a.genres, c.genres)


def centred_item_vectors(ratings):
    """Each film's column of ratings minus each user's mean, 0 where not rated: (n_items, n_users)."""
    rated = ~np.isnan(ratings)
    return np.where(rated, ratings - np.nanmean(ratings, axis=1, keepdims=True), 0).T


def test_the_genre_structure_is_in_the_ratings(data):
    similarity = cosine_similarity(centred_item_vectors(data.ratings))
    same = data.genres[:, None] == data.genres[None, :]
    off_diagonal = ~np.eye(60, dtype=bool)
    assert similarity[same & off_diagonal].mean() > similarity[~same].mean() + 0.05
    share = np.mean([np.mean(data.genres[top_k(similarity, i, 5)] == data.genres[i]) for i in range(60)])
    assert share > 0.8                                                  # chance: 9/59 = 0.15
    # shuffling the genre labels destroys it: the check can fail
    shuffled = np.random.default_rng(0).permutation(data.genres)
    assert np.mean([np.mean(shuffled[top_k(similarity, i, 5)] == shuffled[i]) for i in range(60)]) < 0.4


def test_ratings_follow_the_true_tastes(data):
    rated = data.rated
    users, items = np.nonzero(rated)
    taste = data.tastes[users, data.genres[items]]
    assert np.corrcoef(taste, data.ratings[rated])[0, 1] > 0.6


def test_split_ratings_divides_the_given_ratings():
    ratings = make_ratings(n_users=100, seed=2).ratings
    train, test = split_ratings(ratings, test_fraction=0.25, seed=0)
    rated, in_train, in_test = ~np.isnan(ratings), ~np.isnan(train), ~np.isnan(test)
    assert not (in_train & in_test).any() and np.array_equal(in_train | in_test, rated)
    assert in_test.sum() == round(0.25 * rated.sum())
    np.testing.assert_array_equal(np.where(in_test, test, train)[rated], ratings[rated])
    with pytest.raises(ValueError, match="test_fraction must be in"):
        split_ratings(ratings, test_fraction=1.0)


def test_cosine_similarity_and_top_k():
    embeddings = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0], [1.0, 1.0], [0.0, 0.0]])
    s = cosine_similarity(embeddings)
    np.testing.assert_allclose(s[:4, :4], [[1, 1, 0, 0.5 ** 0.5], [1, 1, 0, 0.5 ** 0.5], [0, 0, 1, 0.5 ** 0.5],
                                           [0.5 ** 0.5, 0.5 ** 0.5, 0.5 ** 0.5, 1]], atol=1e-15)
    assert np.all(s[4] == 0)                                            # a zero row: no NaN
    assert list(top_k(s, 0, 3)) == [1, 3, 2]                            # itself excluded, best first
    assert list(top_k(s, 2, 1)) == [3]
    with pytest.raises(ValueError, match="must be square"):
        top_k(np.ones((2, 3)), 0, 1)
    with pytest.raises(ValueError, match="1 <= k < 5"):
        top_k(s, 0, 5)
    with pytest.raises(ValueError, match="expects a matrix"):
        cosine_similarity(np.ones(3))


@pytest.mark.parametrize("kwargs,message", [(dict(n_genres=13), "n_genres must be at most 12"),
                                            (dict(density=0), "density must be a number in"),
                                            (dict(n_users=0), "n_users must be an integer >= 1")])
def test_make_ratings_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_ratings(**kwargs)
