"""Seeded synthetic film ratings for the recommender of chapter 9 (recommender.ipynb).

Why synthetic: no ratings data set ships inside an installed package (scikit-learn, Keras and
TensorFlow carry none; MovieLens would be a download, and the course downloads nothing at run
time). A generated set has one more use: we know its true structure, so the page can check that
what the model learned is real.

How the ratings are made (all drawn from one seeded generator):
- every film belongs to one genre and has a quality q_i ~ N(0, 0.4^2); its title is "<Genre> film k";
- every user has a taste for each genre, t_ug ~ N(0, 1), plus one favourite genre (+1.5), and a
  general leniency b_u ~ N(0, 0.3^2);
- the rating user u would give film i of genre g is
      round(3 + 0.9 t_ug + q_i + b_u + noise),   noise ~ N(0, 0.5^2),   clipped to 1..5;
- each user has rated a random ~`density` of the films (at least 2), and np.nan marks the rest.
So two films of one genre are rated alike by the same users: an item embedding learned from the
ratings should put films of one genre near each other, which `genres` lets us check.

    data = make_ratings()                     # 800 users x 60 films, 6 genres, ~15 % rated
    data.ratings                              # (800, 60) float, 1..5, np.nan = not rated
    data.titles[0], data.genre_names[data.genres[0]]
    similarity = cosine_similarity(item_embeddings)     # (60, 60)
    top_k(similarity, item=0, k=5)                      # the 5 most similar other films
"""
from dataclasses import dataclass

import numpy as np

GENRE_NAMES = ["Comedy", "Drama", "Horror", "Romance", "Sci-fi", "Western", "Thriller", "Musical",
               "Animation", "Documentary", "Fantasy", "War"]


@dataclass
class Ratings:
    """A user x item ratings matrix and what is known about the items (and, for checks, the truth)."""
    ratings: np.ndarray          # (n_users, n_items) float64, 1..5 where rated, np.nan elsewhere
    titles: list                 # n_items names, "Comedy film 3"
    genres: np.ndarray           # (n_items,) int, index into genre_names
    genre_names: list            # n_genres names
    tastes: np.ndarray           # (n_users, n_genres): the true genre tastes (hidden from a model)
    quality: np.ndarray          # (n_items,): the true film qualities

    def __getitem__(self, key):  # data["ratings"] works too
        return getattr(self, key)

    @property
    def rated(self):
        """(n_users, n_items) bool: True where a rating was given."""
        return ~np.isnan(self.ratings)


def make_ratings(n_users=800, n_items=60, n_genres=6, density=0.15, seed=0):
    """A seeded synthetic ratings set (see the module's docstring for how it is made).

    Films are spread evenly over the genres, in a shuffled order (sort by `genres` to see blocks).
    Returns a `Ratings`. Taught in chapter 9 (recommender.ipynb).
    """
    for value, what, low in ((n_users, "n_users", 1), (n_items, "n_items", 2), (n_genres, "n_genres", 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{what} must be an integer >= {low}; got {value!r}.")
    if n_genres > min(n_items, len(GENRE_NAMES)):
        raise ValueError(f"n_genres must be at most {min(n_items, len(GENRE_NAMES))} (the films, and the "
                         f"genre names available); got {n_genres}.")
    if isinstance(density, bool) or not isinstance(density, (int, float)) or not 0 < density <= 1:
        raise ValueError(f"density must be a number in (0, 1]; got {density!r}.")
    rng = np.random.default_rng(seed)
    genres = rng.permutation(np.arange(n_items) % n_genres)                # even spread, shuffled
    counts = np.zeros(n_genres, dtype=int)
    titles = []
    for genre in genres:
        counts[genre] += 1
        titles.append(f"{GENRE_NAMES[genre]} film {counts[genre]}")
    quality = rng.normal(0, 0.4, size=n_items)
    tastes = rng.normal(0, 1, size=(n_users, n_genres))
    tastes[np.arange(n_users), rng.integers(0, n_genres, size=n_users)] += 1.5   # a favourite genre
    leniency = rng.normal(0, 0.3, size=(n_users, 1))
    score = 3 + 0.9 * tastes[:, genres] + quality + leniency + rng.normal(0, 0.5, size=(n_users, n_items))
    full = np.clip(np.round(score), 1, 5)
    # which films each user rated: a random ~density of them, at least 2
    n_rated = np.clip(rng.binomial(n_items, density, size=n_users), 2, n_items)
    rank = np.argsort(rng.random((n_users, n_items)), axis=1)              # a random permutation per user
    rated = rank < n_rated[:, None]                                        # n_rated films of each user
    ratings = np.where(rated, full, np.nan)
    return Ratings(ratings, titles, genres, list(GENRE_NAMES[:n_genres]), tastes, quality)


def split_ratings(ratings, test_fraction=0.2, seed=0):
    """(train, test): the given ratings divided at random (round(test_fraction * n_given) of them held
    out), each a full-size matrix with np.nan elsewhere, so a model trains on `train` and is scored
    on ratings it never saw."""
    ratings = np.asarray(ratings, dtype=float)
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1); got {test_fraction!r}.")
    given = np.flatnonzero(~np.isnan(ratings))
    chosen = np.random.default_rng(seed).choice(given, size=round(test_fraction * given.size), replace=False)
    held_out = np.zeros(ratings.shape, dtype=bool)
    held_out.flat[chosen] = True
    return np.where(held_out, np.nan, ratings), np.where(held_out, ratings, np.nan)


def cosine_similarity(embeddings):
    """(n, n) cosine similarity of the rows of `embeddings` (n, k): dot products of unit rows.
    A zero row has similarity 0 with everything (and with itself). Taught in chapter 9 (recommender.ipynb)."""
    embeddings = np.asarray(embeddings, dtype=float)
    if embeddings.ndim != 2:
        raise ValueError(f"cosine_similarity expects a matrix (n_items, k); got shape {embeddings.shape}.")
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    unit = np.divide(embeddings, norms, out=np.zeros_like(embeddings), where=norms > 0)
    return unit @ unit.T


def top_k(similarity, item, k=5):
    """The indices of the k items most similar to `item` (itself excluded), most similar first."""
    similarity = np.asarray(similarity, dtype=float)
    n = similarity.shape[0]
    if similarity.shape != (n, n):
        raise ValueError(f"similarity must be square (n_items, n_items); got shape {similarity.shape}.")
    if not 0 <= item < n or not 1 <= k < n:
        raise ValueError(f"Need 0 <= item < {n} and 1 <= k < {n}; got item={item}, k={k}.")
    others = np.delete(np.arange(n), item)
    order = np.argsort(-similarity[item, others], kind="stable")           # ties: the lower index first
    return others[order[:k]]
