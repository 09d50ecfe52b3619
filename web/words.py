"""The pages' words in each language the YAML offers callers ("zh", "en"); a language
the pages do not know falls back to English. Pure."""

from __future__ import annotations

from collections.abc import Mapping

_EN: dict[str, str] = {
    "title": "Hotline", "log_in": "Log in", "log_out": "Log out", "username": "Username",
    "password": "Password", "desk": "Agent desk", "wallboard": "Wallboard",
    "state": "State", "in_state_for": "for", "reason": "Reason", "ready": "Ready",
    "not_ready": "Not ready", "wrap_up_done": "End wrap-up", "log_in_phone": "Log in",
    "log_out_phone": "Log out", "caller": "Caller", "number": "Number", "name": "Name",
    "tier": "VIP tier", "menu_path": "Menu path", "queue": "Queue", "waited": "Waited",
    "account": "Account", "balance": "Balance", "last_bill": "Last bill", "due": "due",
    "history": "Last calls", "outcome": "Outcome", "grade": "Survey grade", "when": "When",
    "no_call": "No call right now.", "no_account": "No account found for this number.",
    "disposition": "Disposition", "note": "Note", "save": "Save",
    "saved": "Saved with the call.", "waiting": "Waiting", "longest": "Longest wait",
    "sl": "SL", "sl_abandons": "SL with abandons", "target": "target", "asa": "ASA",
    "aht": "AHT", "offered": "Offered", "answered": "Answered", "abandoned": "Abandoned",
    "agents": "Agents", "agent": "Agent", "on_call_with": "Call", "force": "Force",
    "force_reason": "Reason (kept in the audit)", "position": "Position",
    "waiting_callers": "Waiting callers", "full_screen": "Full screen",
    "below_target": "below target", "all": "all", "nobody_waiting": "Nobody is waiting.",
    "live": "live", "reconnecting": "reconnecting…", "forbidden": "Not allowed.",
    "logged_out": "Logged out", "reserved": "Call offered", "ringing": "Ringing",
    "on_call": "On a call", "wrap_up": "Wrap-up", "states.ready": "Ready",
    "states.not_ready": "Not ready", "busy": "busy", "last_hour": "The last hour, per minute",
}
_ZH: dict[str, str] = {
    "title": "客服热线", "log_in": "登录", "log_out": "退出", "username": "用户名",
    "password": "密码", "desk": "坐席工作台", "wallboard": "监控大屏", "state": "状态",
    "in_state_for": "已持续", "reason": "原因", "ready": "就绪", "not_ready": "未就绪",
    "wrap_up_done": "结束话后处理", "log_in_phone": "签入", "log_out_phone": "签出",
    "caller": "来电", "number": "号码", "name": "姓名", "tier": "VIP 等级",
    "menu_path": "菜单路径", "queue": "队列", "waited": "等待", "account": "账户",
    "balance": "余额", "last_bill": "上期账单", "due": "到期", "history": "最近来电",
    "outcome": "结果", "grade": "满意度", "when": "时间", "no_call": "当前没有来电。",
    "no_account": "此号码没有账户。", "disposition": "处理结果", "note": "备注",
    "save": "保存", "saved": "已随通话保存。", "waiting": "排队", "longest": "最长等待",
    "sl": "20秒接通率", "sl_abandons": "含放弃接通率", "target": "目标", "asa": "平均应答",
    "aht": "平均处理", "offered": "呼入", "answered": "接通", "abandoned": "放弃",
    "agents": "坐席", "agent": "坐席", "on_call_with": "通话", "force": "强制",
    "force_reason": "原因（记入审计）", "position": "位置", "waiting_callers": "排队来电",
    "full_screen": "全屏", "below_target": "低于目标", "all": "全部",
    "nobody_waiting": "无人排队。", "live": "实时", "reconnecting": "重新连接…",
    "forbidden": "无权操作。", "logged_out": "已签出", "reserved": "来电分配",
    "ringing": "振铃", "on_call": "通话中", "wrap_up": "话后处理", "states.ready": "就绪",
    "states.not_ready": "未就绪", "busy": "忙", "last_hour": "最近一小时（每分钟）",
}
WORDS: Mapping[str, Mapping[str, str]] = {"en": _EN, "zh": _ZH}


def words_for(language: str) -> Mapping[str, str]:
    return WORDS.get(language, _EN)


def page_language(offered: list[str], default: str, accept_language: str) -> str:
    """The first language of the browser's Accept-Language that the YAML offers and
    the pages know; else the YAML's default (when the pages know it), else English."""
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower().split("-")[0]
        if tag in offered and tag in WORDS:
            return tag
    return default if default in WORDS else "en"
