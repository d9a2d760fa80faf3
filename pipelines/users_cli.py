"""`outcomes users`: the dashboard's accounts and their passwords (docs/security.md).

The accounts module is imported inside each command, so that `outcomes --help` answers at
once. :func:`refused_on` is how every command says no (`outcomes sql` too).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

users_app = typer.Typer(
    help="Dashboard accounts (owner, therapist, analyst) and their passwords (docs/security.md).",
    no_args_is_help=True,
)


@contextmanager
def refused_on(*errors: type[Exception]) -> Iterator[None]:
    """Turn an expected refusal into `refused: why` on stderr and exit status 1."""
    try:
        yield
    except errors as exc:
        typer.secho(f"refused: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc


def _password(from_stdin: bool, confirm: bool = True) -> str:
    import sys

    if from_stdin:  # scripts: the password on the first line of stdin, never in argv
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("password", hide_input=True, confirmation_prompt=confirm)


@users_app.command("add")
def users_add(
    username: Annotated[
        str,
        typer.Argument(help="Sign-in name: letters of one script, digits 0-9 and . - _ @."),
    ],
    role: Annotated[str, typer.Option("--role", help="owner, therapist or analyst.")],
    therapist_id: Annotated[
        str | None,
        typer.Option(
            "--therapist-id",
            help="Therapist accounts: a therapist_id of the warehouse, e.g. T01 (list them: "
            'outcomes sql "SELECT therapist_id, name FROM therapists").',
        ),
    ] = None,
    db: Annotated[
        Path | None, typer.Option("--db", help="Warehouse to check --therapist-id in.")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Add an account (the password is asked for, or read from stdin)."""
    from pipelines.account_names import NameRefused, check_therapist_id
    from pipelines.settings import get_settings
    from pipelines.users import UserError, UserStore

    with refused_on(UserError, NameRefused):
        if role == "therapist" and therapist_id:  # read-only; before asking for a password
            check_therapist_id(therapist_id, db or get_settings().db_path)
        user = UserStore().add(username, _password(password_stdin), role, therapist_id)
    linked = f" (therapist {user.therapist_id})" if user.therapist_id else ""
    typer.echo(f"added {user.username}: {user.role}{linked}")


@users_app.command("remove")
def users_remove(username: Annotated[str, typer.Argument(help="Sign-in name.")]) -> None:
    """Remove an account (its open sessions end with its next request)."""
    from pipelines.users import UserError, UserStore

    with refused_on(UserError):
        UserStore().remove(username)
    typer.echo(f"removed {username}")


@users_app.command("list")
def users_list() -> None:
    """List the accounts: name, role, linked therapist, created."""
    from pipelines.users import UserStore

    users = UserStore().list()
    if not users:
        typer.echo("no accounts yet: add one with `outcomes users add NAME --role owner`")
    for user in users:
        linked = user.therapist_id or "-"
        typer.echo(f"{user.username}\t{user.role}\t{linked}\t{user.created_at[:19]}")


@users_app.command("passwd")
def users_passwd(
    username: Annotated[str, typer.Argument(help="Sign-in name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Set a new password (signs the account out everywhere)."""
    from pipelines.users import UserError, UserStore

    with refused_on(UserError):
        UserStore().set_password(username, _password(password_stdin))
    typer.echo(f"password of {username} changed")
