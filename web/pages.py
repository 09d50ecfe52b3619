"""Server-rendered HTML: the login page, the agent desk and the wallboard, each made of
fragments that the live updates replace by id (`static/live.js`). Pure: data in, text
out, every value escaped. A time shown as "for 1:23" is a `data-since` the page ticks
by itself, so it needs no update from the server."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

from quality.coaching import Mode
from web.accounts import Account, Role
from web.chart import chart_svg
from web.floor import WITH_A_CALL, AgentNow, Floor, QueueRow, ScreenPop

Words = Mapping[str, str]
# The longest-waiting callers listed on the wallboard; the queue rows count them all.
WAITERS_SHOWN = 30


def esc(value: object) -> str:
    """Any value, as text safe in HTML and in a quoted attribute."""
    return escape(str(value), quote=True)


_e = esc


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}s" if value >= 10 else f"{value:.1f}s"


def _since(at: float | None) -> str:
    return "" if not at else f'<span class="since" data-since="{at:.3f}"></span>'


def _yuan(fen: str | None) -> str:
    if fen is None or fen == "":
        return "–"
    try:
        return f"¥{int(fen) / 100:,.2f}"
    except ValueError:
        return "–"


def page(words: Words, language: str, title: str, body: str, who: Account | None = None,
         csrf: str = "", live: str = "") -> str:
    """The frame of every page. `live`: the view whose updates the page listens to."""
    nav = ""
    if who is not None:
        links = []
        if who.role is Role.AGENT:
            links.append(f'<a href="/desk">{_e(words["desk"])}</a>')
        else:
            links.append(f'<a href="/wallboard">{_e(words["wallboard"])}</a>')
            links.append(f'<a href="/recordings">{_e(words["recordings"])}</a>')
            links.append(f'<a href="/surveys">{_e(words["surveys"])}</a>')
            links.append(f'<a href="/reviews">{_e(words["reviews"])}</a>')
            links.append(f'<a href="/config">{_e(words["routing"])}</a>')
        nav = (f'<nav>{" ".join(links)}<span class="who">{_e(who.name or who.username)}'
               f'</span><form method="post" action="/logout" class="inline">'
               f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
               f'<button type="submit">{_e(words["log_out"])}</button></form>'
               f'<span id="link" class="link">{_e(words["live"])}</span></nav>')
    live_attr = f' data-live="{_e(live)}"' if live else ""
    return (f'<!doctype html><html lang="{_e(language)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{_e(title)}</title><link rel="stylesheet" href="/static/hotline.css">'
            f'<script src="/static/live.js" defer></script></head>'
            f'<body{live_attr} data-reconnecting="{_e(words["reconnecting"])}">'
            f'{nav}<main>{body}</main></body></html>')


def login_page(words: Words, language: str, csrf: str, error: str = "") -> str:
    failed = f'<p class="error" role="alert">{_e(error)}</p>' if error else ""
    body = (f'<h1>{_e(words["title"])}</h1>{failed}'
            f'<form method="post" action="/login" class="login">'
            f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
            f'<label>{_e(words["username"])} <input name="username" autocomplete="username"'
            f' required autofocus></label>'
            f'<label>{_e(words["password"])} <input name="password" type="password"'
            f' autocomplete="current-password" required></label>'
            f'<button type="submit">{_e(words["log_in"])}</button></form>')
    return page(words, language, words["log_in"], body)


# --- the agent desk -------------------------------------------------------------------

def state_label(words: Words, state: str) -> str:
    return words.get(state, state.replace("_", " "))


def desk_state(words: Words, agent: AgentNow, reasons: Mapping[str, str],
               csrf: str) -> str:
    """The agent's state, how long, and the moves open from it."""
    reason = f' <span class="reason">({_e(agent.reason)})</span>' if agent.reason else ""
    action = f"/agents/{_e(agent.agent_id)}/state"

    def button(move: str, label: str, extra: str = "") -> str:
        return (f'<form method="post" action="{action}" class="inline">'
                f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
                f'<input type="hidden" name="move" value="{move}">{extra}'
                f'<button type="submit" name="do" value="{move}">{_e(label)}</button></form>')

    moves = []
    if agent.state == "logged_out":
        moves.append(button("log_in", words["log_in_phone"]))
    if agent.state in ("not_ready",):
        moves.append(button("ready", words["ready"]))
    if agent.state in ("ready", "not_ready", "wrap_up"):
        options = "".join(f'<option value="{_e(code)}">{_e(code)} {_e(text)}</option>'
                          for code, text in sorted(reasons.items()))
        moves.append(button("not_ready", words["not_ready"],
                            f'<select name="reason" aria-label="{_e(words["reason"])}">'
                            f"{options}</select>"))
    if agent.state == "wrap_up":
        moves.append(button("wrap_up_done", words["wrap_up_done"]))
    if agent.state in ("ready", "not_ready", "wrap_up"):
        moves.append(button("log_out", words["log_out_phone"]))
    return (f'<section id="state" class="state {_e(agent.state)}">'
            f'<h2>{_e(words["state"])}: <strong class="state-name">'
            f'{_e(state_label(words, agent.state))}</strong>{reason} '
            f'<small>{_e(words["in_state_for"])} {_since(agent.since)}</small></h2>'
            f'<div class="moves">{"".join(moves)}</div></section>')


def _history_row(call: Mapping[str, str], dispositions: Mapping[str, str]) -> str:
    code = call.get("disposition", "")
    return (f'<tr><td>{_e(call.get("when", ""))}</td><td>{_e(call.get("queue", ""))}</td>'
            f'<td>{_e(call.get("outcome", ""))}</td>'
            f'<td class="disposition">{_e(dispositions.get(code, code) or "–")}</td>'
            f'<td class="grade">{_e(call.get("grade", "") or "–")}</td></tr>')


def desk_pop(words: Words, pop: ScreenPop | None, dispositions: Mapping[str, str],
             csrf: str, agent: AgentNow) -> str:
    if pop is None:
        return f'<section id="pop" class="pop empty"><p>{_e(words["no_call"])}</p></section>'
    acc = pop.account
    if acc is None:
        account = f'<p class="no-account">{_e(words["no_account"])}</p>'
    else:
        due = f' ({_e(words["due"])} {_e(acc["bill_due"])})' if acc.get("bill_due") else ""
        account = (f'<dl class="account"><dt>{_e(words["balance"])}</dt>'
                   f'<dd class="balance">{_yuan(acc.get("balance_fen"))}</dd>'
                   f'<dt>{_e(words["last_bill"])}</dt>'
                   f'<dd class="bill">{_yuan(acc.get("bill_fen"))}{due}</dd></dl>')
    rows = "".join(_history_row(h, dispositions) for h in pop.history)
    history = (f'<h3>{_e(words["history"])}</h3><table class="history"><thead><tr>'
               f'<th>{_e(words["when"])}</th><th>{_e(words["queue"])}</th>'
               f'<th>{_e(words["outcome"])}</th><th>{_e(words["disposition"])}</th>'
               f'<th>{_e(words["grade"])}</th></tr></thead>'
               f"<tbody>{rows}</tbody></table>") if pop.history else ""
    waited = (f'<span class="waited">{_secs(pop.waited(pop.answered_at or 0))}</span>'
              if pop.answered_at else
              f'<span class="waited">{_since(pop.arrived_at)}</span>')
    wrap = ""
    if agent.state == "wrap_up":
        options = "".join(
            f'<option value="{_e(code)}"{" selected" if code == pop.disposition else ""}>'
            f"{_e(text)}</option>" for code, text in dispositions.items())
        done = f'<p class="saved">{_e(words["saved"])}</p>' if pop.disposition else ""
        wrap = (f'<form method="post" action="/agents/{_e(agent.agent_id)}/disposition"'
                f' class="disposition"><input type="hidden" name="csrf" value="{_e(csrf)}">'
                f'<input type="hidden" name="call" value="{_e(pop.call_id)}">'
                f'<label>{_e(words["disposition"])} <select name="code">{options}</select>'
                f'</label><label>{_e(words["note"])} <input name="note" maxlength="500"'
                f' value="{_e(pop.disposition_note)}">'
                f'</label><button type="submit">{_e(words["save"])}</button>{done}</form>')
    return (f'<section id="pop" class="pop tier-{_e(pop.tier)}" data-call="{_e(pop.call_id)}">'
            f'<h2>{_e(words["caller"])}: <span class="number">{_e(pop.number)}</span> '
            f'<span class="name">{_e(pop.name)}</span> '
            f'<span class="tier">{_e(pop.tier)}</span></h2>'
            f'<dl><dt>{_e(words["queue"])}</dt><dd class="queue">{_e(pop.queue)}</dd>'
            f'<dt>{_e(words["menu_path"])}</dt><dd class="menu-path">{_e(pop.menu_path)}</dd>'
            f'<dt>{_e(words["waited"])}</dt><dd>{waited}</dd></dl>'
            f'<h3>{_e(words["account"])}</h3>{account}{history}{wrap}</section>')


def desk_page(words: Words, language: str, who: Account, csrf: str, agent: AgentNow,
              pop: ScreenPop | None, reasons: Mapping[str, str],
              dispositions: Mapping[str, str]) -> str:
    body = (f'<h1>{_e(words["desk"])} · {_e(agent.name)} ({_e(agent.agent_id)})</h1>'
            + desk_state(words, agent, reasons, csrf)
            + desk_pop(words, pop, dispositions, csrf, agent))
    return page(words, language, words["desk"], body, who, csrf, live="desk")


# --- the wallboard --------------------------------------------------------------------

def _serving(words: Words, agents: Mapping[str, int]) -> str:
    """The queue's agents: ready, busy with a call, away."""
    busy = sum(n for s, n in agents.items() if s in WITH_A_CALL)
    parts = [(agents.get("ready", 0), "ready"), (busy, "busy"),
             (agents.get("not_ready", 0), "not_ready")]
    return " · ".join(f'<span class="{kind}">{n} {_e(words[kind])}</span>'
                      for n, kind in parts if n)


def _queue_row(words: Words, row: QueueRow) -> str:
    f = row.figures
    low = " below" if row.below_target else ""
    mark = f' <span class="flag">{_e(words["below_target"])}</span>' if row.below_target else ""
    tier = words["all"] if row.tier == "all" else row.tier
    return (f'<tr class="tier-{_e(row.tier)}{low}" data-queue="{_e(row.queue)}" '
            f'data-tier="{_e(row.tier)}"><td>{_e(row.name or row.queue)}</td><td>{_e(tier)}</td>'
            f'<td class="waiting">{row.waiting}</td>'
            f'<td class="longest">{_since(row.longest_since)}</td>'
            f'<td class="sl">{_share(f.service_level)}{mark}</td>'
            f'<td class="sl-abandons">{_share(f.service_level_with_abandons)}</td>'
            f'<td class="target">{row.target:.0%}/{row.answered_within:g}s</td>'
            f'<td>{_secs(f.asa)}</td><td>{_secs(f.aht)}</td>'
            f'<td class="offered">{f.offered}</td><td class="answered">{f.answered}</td>'
            f'<td class="abandoned">{f.abandoned}</td>'
            f'<td class="serving">{_serving(words, row.agents)}</td></tr>')


def wallboard_queues(words: Words, rows: Iterable[QueueRow]) -> str:
    head = "".join(f"<th>{_e(words[k])}</th>" for k in (
        "queue", "tier", "waiting", "longest", "sl", "sl_abandons", "target", "asa", "aht",
        "offered", "answered", "abandoned", "agents"))
    body = "".join(_queue_row(words, r) for r in rows)
    return (f'<section id="queues"><table class="queues"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></section>")


LISTEN_FORM = "li"  # the wallboard's one form that every listen button posts


def listen_form(csrf: str) -> str:
    """The form the listen buttons submit (`form=` on each button): outside the live
    fragments, so the rows that every open wallboard is sent many times a second carry
    no token of their own."""
    return (f'<form id="{LISTEN_FORM}" method="post" hidden>'
            f'<input type="hidden" name="csrf" value="{_e(csrf)}"></form>')


def listen_buttons(words: Words, call_id: str, modes: Iterable[Mode]) -> str:
    """One small button per way of listening in on a live call (`button[value=whisper]`).
    Kept short: a line of 30 callers sends 30 of them in every update."""
    return "".join(
        f'<button form="{LISTEN_FORM}" formaction="/calls/{_e(call_id)}/listen" name="mode"'
        f' value="{mode.value}">{_e(words[mode.value])}</button>' for mode in modes)


def listen_by_call(words: Words, csrf: str) -> str:
    """Listen in on any live call by its id (a caller in the menus has no row)."""
    modes = "".join(f'<option value="{m.value}">{_e(words[m.value])}</option>' for m in Mode)
    return (f'<form method="post" action="/listen" class="listen-by-call">'
            f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
            f'<label>{_e(words["listen_to_call"])} <input name="call" required '
            f'pattern="[A-Za-z0-9._\\-]+" size="22"></label>'
            f'<select name="mode" aria-label="{_e(words["listen_how"])}">{modes}</select>'
            f'<button type="submit">{_e(words["listen_in"])}</button>'
            f' <a href="/listen">{_e(words["listen_log"])}</a></form>')


def wallboard_agents(words: Words, board: Floor, csrf: str,
                     reasons: Mapping[str, str]) -> str:
    counts = " ".join(f'<span class="count {s}">{_e(state_label(words, s))} '
                      f'<b>{n}</b></span>' for s, n in board.states.items() if n)
    options = "".join(f'<option value="{_e(code)}">{_e(text)}</option>'
                      for code, text in sorted(reasons.items()))
    rows = []
    for a in board.agents:
        force = ""
        if a.state in ("ready", "not_ready", "wrap_up"):
            force = (f'<form method="post" action="/agents/{_e(a.agent_id)}/state"'
                     f' class="inline force"><input type="hidden" name="csrf"'
                     f' value="{_e(csrf)}"><select name="move"><option value="not_ready">'
                     f'{_e(words["not_ready"])}</option><option value="log_out">'
                     f'{_e(words["log_out_phone"])}</option></select>'
                     f'<select name="reason" aria-label="{_e(words["force_reason"])}">'
                     f'{options}</select><button type="submit">{_e(words["force"])}'
                     f"</button></form>")
        if a.state == "on_call" and a.call_id:
            force = listen_buttons(words, a.call_id, Mode)
        rows.append(f'<tr class="agent {_e(a.state)}" data-agent="{_e(a.agent_id)}">'
                    f'<td>{_e(a.agent_id)}</td><td>{_e(a.name)}</td>'
                    f'<td class="state">{_e(state_label(words, a.state))}'
                    f'{" (" + _e(a.reason) + ")" if a.reason else ""}</td>'
                    f'<td>{_since(a.since)}</td><td class="call">{_e(a.call_id)}</td>'
                    f"<td>{force}</td></tr>")
    return (f'<section id="agents"><h2>{_e(words["agents"])}</h2><p class="counts">{counts}'
            f'</p><table class="agents"><thead><tr><th>{_e(words["agent"])}</th>'
            f'<th>{_e(words["name"])}</th><th>{_e(words["state"])}</th><th></th>'
            f'<th>{_e(words["on_call_with"])}</th><th></th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></section>')


def wallboard_waiters(words: Words, board: Floor) -> str:
    if not board.waiters:
        return (f'<section id="waiters"><h2>{_e(words["waiting_callers"])}</h2>'
                f'<p>{_e(words["nobody_waiting"])}</p></section>')
    rows = "".join(f'<tr class="tier-{_e(w.tier)}" data-call="{_e(w.call_id)}">'
                   f'<td>{_e(w.queue)}</td><td>{_e(w.tier)}</td><td>{w.position}</td>'
                   f'<td>{_since(w.arrived_at)}</td>'
                   f'<td>{listen_buttons(words, w.call_id, (Mode.LISTEN,))}</td></tr>'
                   for w in board.waiters[:WAITERS_SHOWN])
    more = len(board.waiters) - WAITERS_SHOWN
    if more > 0:
        rows += f'<tr class="more"><td colspan="5">+{more}</td></tr>'
    return (f'<section id="waiters"><h2>{_e(words["waiting_callers"])}</h2><table>'
            f'<thead><tr><th>{_e(words["queue"])}</th><th>{_e(words["tier"])}</th>'
            f'<th>{_e(words["position"])}</th><th>{_e(words["waited"])}</th><th></th>'
            f"</tr></thead><tbody>{rows}</tbody></table></section>")


def wallboard_chart(words: Words, board: Floor, target: float) -> str:
    return ('<section id="chart">'
            + chart_svg(board.hour, target, words["last_hour"], words["sl"], words["waiting"])
            + "</section>")


def wallboard_fragments(words: Words, board: Floor, csrf: str,
                        reasons: Mapping[str, str], target: float) -> dict[str, str]:
    return {"queues": wallboard_queues(words, board.rows),
            "chart": wallboard_chart(words, board, target),
            "agents": wallboard_agents(words, board, csrf, reasons),
            "waiters": wallboard_waiters(words, board)}


def wallboard_page(words: Words, language: str, who: Account, csrf: str, board: Floor,
                   reasons: Mapping[str, str], target: float) -> str:
    parts = wallboard_fragments(words, board, csrf, reasons, target)
    body = (f'<h1>{_e(words["wallboard"])} <button type="button" id="full-screen">'
            f'{_e(words["full_screen"])}</button></h1>'
            f'{parts["queues"]}{parts["chart"]}<div class="columns">{parts["waiters"]}'
            f'{parts["agents"]}</div>{listen_by_call(words, csrf)}{listen_form(csrf)}')
    return page(words, language, words["wallboard"], body, who, csrf, live="wallboard")
