"""`hotline web` (the people's side, a process of its own) and `hotline users` (its
accounts). The engine never imports the web side: these commands load it when run."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from typing import Any

from hotline.settings import Settings

ROLES = ("agent", "supervisor", "admin")


def add_people_parsers(sub: Any) -> None:
    web = sub.add_parser("web", help="the agent desk, the wallboard and /metrics")
    web.add_argument("--listen", default="127.0.0.1:8080",
                     help="host:port to serve on (default 127.0.0.1:8080)")
    web.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    web.add_argument("--tls-key", help="and this private key (PEM)")
    users = sub.add_parser("users", help="accounts of the web side")
    commands = users.add_subparsers(dest="users_command", required=True)
    add = commands.add_parser("add", help="a new account (asks for its password)")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--agent", default="", help="the agent's id in the routing YAML "
                     "(for --role agent)")
    add.add_argument("--name", default="", help="the name the pages show")
    add.add_argument("--phone", default="", help="a supervisor's own phone, which rings "
                                                 "when they listen in (e.g. PJSIP/sup-1)")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from standard input (for scripts)")
    passwd = commands.add_parser("passwd", help="a new password (ends its sessions)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    phone = commands.add_parser("phone", help="the phone that rings when a supervisor "
                                              "listens in")
    phone.add_argument("username")
    phone.add_argument("phone", help="a dial string such as PJSIP/sup-1; '' for none")
    disable = commands.add_parser("disable", help="no more logins (ends its sessions)")
    disable.add_argument("username")
    commands.add_parser("list", help="every account, its role and when it lapses")


def web_command(args: argparse.Namespace, settings: Settings) -> int:
    from web.app import serve_web

    host, _, port = str(args.listen).rpartition(":")
    if not port.isdigit():
        print(f"hotline web: --listen wants host:port, not {args.listen!r}", file=sys.stderr)
        return 2
    if bool(args.tls_cert) != bool(args.tls_key):
        print("hotline web: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    tls = (args.tls_cert, args.tls_key) if args.tls_cert else None
    return serve_web(settings.redis_url, settings.key_prefix, host or "127.0.0.1", int(port),
                     tls, settings.recordings_dir)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


async def users_command(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.runtime.redis_client import connect
    from web.account_store import AccountStore
    from web.accounts import AccountError, Role

    redis = connect(settings.redis_url)
    store = AccountStore(redis, settings.key_prefix)
    try:
        match args.users_command:
            case "add":
                account = await store.add(args.username, Role(args.role),
                                          _password(args.password_stdin), args.agent,
                                          args.name, args.phone)
                await store.audit(settings.author, "cli", "account added", account.username,
                                  account.role.value)
                print(f"added {account.username} ({account.role.value})")
            case "passwd":
                await store.set_password(args.username, _password(args.password_stdin))
                await store.audit(settings.author, "cli", "password set", args.username)
                print(f"new password for {args.username}; their sessions are ended")
            case "phone":
                await store.set_phone(args.username, args.phone)
                await store.audit(settings.author, "cli", "phone set", args.username,
                                  args.phone)
                print(f"{args.username} listens in on {args.phone or 'no phone'}")
            case "disable":
                await store.disable(args.username)
                await store.audit(settings.author, "cli", "account disabled", args.username)
                print(f"{args.username} is disabled; their sessions are ended")
            case _:
                for account, lapses in await store.accounts():
                    when = dt.datetime.fromtimestamp(lapses).date().isoformat()
                    print(f"{account.username:<20} {account.role.value:<10} "
                          f"{account.agent_id or '-':<8} "
                          f"{'disabled' if account.disabled else 'active':<9} "
                          f"lapses {when}  {account.name}"
                          f"{'  phone ' + account.phone if account.phone else ''}")
        return 0
    except (AccountError, ValueError) as exc:
        print(f"hotline users: {exc}", file=sys.stderr)
        return 1
    finally:
        await redis.aclose()
