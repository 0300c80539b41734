"""Time in force: when an order starts to work and when it expires."""

from __future__ import annotations

from datetime import datetime

from propdesk.execution.order_book.requests import SessionView
from propdesk.model.orders import Order, TimeInForce


def lifetime(tif: TimeInForce, session: SessionView) -> tuple[datetime | None, datetime | None]:
    """When an order with ``tif`` placed now starts to work (OPG: the open) and when it expires."""
    if tif is TimeInForce.OPG:
        return session.next_open, session.next_open
    if tif in (TimeInForce.DAY, TimeInForce.CLS):
        return None, session.close
    return None, None


def expired_by(order: Order, begins: datetime) -> bool:
    """Whether an event that began at ``begins`` comes after ``order``'s expiry.

    A CLS order waits for the close event itself, which may come after other events stamped at the
    close (it trades against the session's last price); any later event expires it. OPG orders
    expire on their own path (the open tick), never here.
    """
    return (
        order.expires_at is not None
        and order.time_in_force is not TimeInForce.OPG
        and (
            begins > order.expires_at
            or (begins == order.expires_at and order.time_in_force is not TimeInForce.CLS)
        )
    )
