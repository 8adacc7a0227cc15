"""Relay-style connections: `edges { cursor node }`, `pageInfo`, `totalCount`."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import strawberry

NodeType = TypeVar("NodeType")


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(description="Items precede this page (an `after` cursor was given).")
    start_cursor: str | None = strawberry.field(description="Cursor of the first item of the page.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last item; pass it as `after`.")


@strawberry.type(description="An item of a page with its cursor.")
class Edge(Generic[NodeType]):
    cursor: str = strawberry.field(description="Opaque position of this item; pass it as `after`.")
    node: NodeType = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list.")
class Connection(Generic[NodeType]):
    edges: list[Edge[NodeType]] = strawberry.field(description="The items of this page, in order.")
    page_info: PageInfo = strawberry.field(description="Paging information.")
    total_count: int = strawberry.field(description="How many items the whole filtered list has.")


def build_connection(
    nodes: list, cursors: list[str], *, total_count: int, has_next_page: bool, has_previous_page: bool
) -> Connection:
    edges = [Edge(cursor=c, node=n) for n, c in zip(nodes, cursors, strict=True)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next_page,
            has_previous_page=has_previous_page,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        total_count=total_count,
    )


def page_connection(page: Any, nodes: list, cursors: list[str] | None = None) -> Connection:
    """A Connection of one page of a service's list: ``page`` has ``total_count``, ``has_next_page``,
    ``has_previous_page`` and, unless ``cursors`` are given, ``cursors``."""
    return build_connection(
        nodes,
        page.cursors if cursors is None else cursors,
        total_count=page.total_count,
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
    )
