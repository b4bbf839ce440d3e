"""`folio orders`: a portfolio's orders, and cancelling one."""

import typer
from rich.console import Console
from rich.table import Table

from app.auth.permissions import Permission, PermissionDenied
from app.cli.services import portfolio_by_slug, run_with_services, user_by_email
from app.orders import service
from app.orders.models import OrderStatus
from app.orders.schemas import OrderRead
from app.portfolios.dependencies import portfolio_access
from app.state import AppState

app = typer.Typer(help="Orders of a portfolio.", no_args_is_help=True)
COLUMNS = (
    "id",
    "client id",
    "ticker",
    "side",
    "type",
    "quantity",
    "filled",
    "avg price",
    "status",
    "created",
)


@app.command("list")
def list_orders(
    slug: str = typer.Argument(..., metavar="PORTFOLIO_SLUG"),
    status: OrderStatus | None = typer.Option(None, help="Only orders in this status."),
    limit: int = typer.Option(50, min=1, max=1000, help="How many, newest first."),
) -> None:
    """A portfolio's orders, newest first (a bracket's legs under their parent)."""

    async def work(s: AppState) -> tuple[list[OrderRead], int]:
        async with s.sessions() as session:
            portfolio = await portfolio_by_slug(session, slug)
            return await service.list_orders(session, portfolio.id, status, None, limit, 0)

    orders, total = run_with_services(work)
    table = Table(*COLUMNS, title=f"{slug}: {len(orders)} of {total} orders")
    for order in orders:
        table.add_row(*_row(order))
        for leg in order.legs:
            table.add_row(*_row(leg, f"  └ {leg.leg}"))
    console = Console()
    if not console.is_terminal:  # piped: whole rows, one line each
        console.width = 200
    console.print(table)


def _row(order: OrderRead, name: str | None = None) -> list[str]:
    return [
        str(order.id),
        name or order.client_order_id,
        order.ticker,
        order.side.value,
        order.type.value,
        str(order.quantity),
        str(order.filled_quantity),
        "" if order.filled_avg_price is None else str(order.filled_avg_price),
        order.status.value,
        order.created_at.strftime("%Y-%m-%d %H:%M"),
    ]


@app.command("cancel")
def cancel(
    slug: str = typer.Argument(..., metavar="PORTFOLIO_SLUG"),
    order_id: int = typer.Argument(..., metavar="ORDER_ID"),
    email: str = typer.Option(
        ..., "--as", help="Email of the user who cancels it (may place orders in the portfolio)."
    ),
) -> None:
    """Cancel an order (its fills stay booked)."""

    async def work(s: AppState) -> OrderRead:
        async with s.sessions() as session, session.begin():
            user = await user_by_email(session, email)
            if not user.is_active or user.approved_at is None:
                raise PermissionDenied("The account is inactive or not approved.")
            load = portfolio_access(Permission.ORDERS_PLACE, for_update=True)
            portfolio = await load(slug, user, session)
            return await service.cancel(session, portfolio, order_id, user.id)

    order = run_with_services(work)
    typer.echo(f"order {order.id} ({order.client_order_id}) is {order.status.value}")
