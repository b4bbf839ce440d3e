"""`folio user`: create, approve and list accounts without a prompt."""

import sys

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from app.cli.common import run
from app.users import service
from app.users.models import User

app = typer.Typer(help="User accounts.", no_args_is_help=True)


@app.command()
def create(
    email: str = typer.Option(..., help="Sign-in email."),
    password: str = typer.Option(..., help="At least 10 characters."),
    username: str | None = typer.Option(None, help="Default: the email's local part."),
    full_name: str = typer.Option("", help="Shown in the dashboard."),
    role: Role = typer.Option(Role.VIEWER, help="admin, portfolio_manager, analyst or viewer."),
    superuser: bool = typer.Option(False, "--superuser", help="An admin with every permission."),
) -> None:
    """Create an approved account."""

    async def work(session: AsyncSession) -> User:
        return await service.create_user(
            session,
            email=email,
            password=password,
            username=username or email.split("@")[0],
            full_name=full_name,
            role=role,
            superuser=superuser,
        )

    user = run(work)
    typer.echo(f"created {user.email} ({user.role.value}) id={user.id}")


@app.command()
def approve(email: str = typer.Argument(..., help="The account's email.")) -> None:
    """Approve a registered account so it can sign in."""

    async def work(session: AsyncSession) -> User:
        user_id = await session.scalar(
            select(User.id).where(func.lower(User.email) == email.lower())
        )
        if user_id is None:
            raise service.UserNotFound(details={"email": email})
        return await service.approve(session, None, user_id)

    user = run(work)
    typer.echo(f"approved {user.email}")


@app.command("list")
def list_users(
    pending: bool = typer.Option(False, "--pending", help="Only accounts awaiting approval."),
) -> None:
    """List accounts."""

    async def work(session: AsyncSession) -> list[User]:
        f = service.UserFilter(approved=False if pending else None)
        users, _ = await service.list_users(session, f, limit=10_000, offset=0)
        return users

    table = Table("email", "username", "role", "active", "approved", "id")
    for user in run(work):
        approved = user.approved_at.date().isoformat() if user.approved_at else "pending"
        table.add_row(
            user.email, user.username, user.role.value, str(user.is_active), approved, str(user.id)
        )
    Console(width=None if sys.stdout.isatty() else 200).print(table)
