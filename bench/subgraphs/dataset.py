"""The benchmark data at N times the reference's entities, for the scaling scenario.

Scale 1 is `data.json` itself (6 users, 5 products, 11 reviews). Scale N repeats it in N blocks:
block ``b`` holds users ``6b+1..6b+6``, products ``5b+1..5b+5`` and reviews ``11b+1..11b+11``,
related inside the block exactly as the reference records are (every review of the block is by
its first user; every user of the block lists its first two reviews). Nothing is random: the
same N always gives the same records, and block 0 is the reference data unchanged, so the
answer of `scale_query(N)` is N times the reference's entities and grows linearly in bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

#: The reference TestQuery with `topProducts(first: $first)`, so that it lists every product.
SCALE_QUERY = """fragment User on User {
  id
  username
  name
}

fragment Review on Review {
  id
  body
}

fragment Product on Product {
  inStock
  name
  price
  shippingEstimate
  upc
  weight
}

query TestQuery($first: Int) {
  users {
    ...User
    reviews {
      ...Review
      product {
        ...Product
        reviews {
          ...Review
          author {
            ...User
            reviews {
              ...Review
              product {
                ...Product
              }
            }
          }
        }
      }
    }
  }
  topProducts(first: $first) {
    ...Product
    reviews {
      ...Review
      author {
        ...User
        reviews {
          ...Review
          product {
            ...Product
          }
        }
      }
    }
  }
}"""


def reference_data() -> dict[str, Any]:
    """`data.json`: the records reconstructed from the reference answer."""
    raw: dict[str, Any] = json.loads((HERE / "data.json").read_text())
    return raw


def scale_data(raw: Mapping[str, Any], scale: int) -> dict[str, Any]:
    """`raw` (the reference records) repeated in `scale` blocks with shifted ids."""
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    if scale == 1:
        return dict(raw)
    n_users, n_products, n_reviews = len(raw["users"]), len(raw["products"]), len(raw["reviews"])

    def shift(value: str, by: int) -> str:
        return str(int(value) + by)

    users: list[dict[str, Any]] = []
    products: list[dict[str, Any]] = []
    reviews: list[dict[str, Any]] = []
    user_reviews: dict[str, list[str]] = {}
    product_reviews: dict[str, list[str]] = {}
    top: list[str] = []
    for block in range(scale):
        du, dp, dr = block * n_users, block * n_products, block * n_reviews
        suffix = "" if block == 0 else f"-{block}"
        for u in raw["users"]:
            users.append({**u, "id": shift(u["id"], du), "username": u["username"] + suffix})
        for p in raw["products"]:
            products.append({**p, "upc": shift(p["upc"], dp)})
        for r in raw["reviews"]:
            reviews.append(
                {
                    **r,
                    "id": shift(r["id"], dr),
                    "authorId": shift(r["authorId"], du),
                    "productUpc": shift(r["productUpc"], dp),
                }
            )
        for uid, ids in raw["userReviews"].items():
            user_reviews[shift(uid, du)] = [shift(i, dr) for i in ids]
        for upc, ids in raw["productReviews"].items():
            product_reviews[shift(upc, dp)] = [shift(i, dr) for i in ids]
        top.extend(shift(upc, dp) for upc in raw["topProducts"])
    return {
        "users": users,
        "products": products,
        "topProducts": top,
        "reviews": reviews,
        "userReviews": user_reviews,
        "productReviews": product_reviews,
    }


def scale_query(scale: int) -> dict[str, Any]:
    """The GraphQL request body of the scaling scenario: every user and every product."""
    return {
        "query": SCALE_QUERY,
        "operationName": "TestQuery",
        "variables": {"first": 5 * scale},
    }
