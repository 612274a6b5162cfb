"""The problem types the services answer with (the `type` of an RFC 9457 problem document), each described
at `/problems/<name>` on every HTTP process.

A problem's `type` is the relative reference `/problems/<name>`: resolved against the address that answered,
it names a page on that same service, wherever the service is deployed. A refusal clients tell apart has a
name of its own (`NAMED`); any other refusal is typed by its HTTP status (`not-found`, `conflict`…), one
type per status the standard library knows. `tests/unit/test_problem_types.py` checks that every type the
code can give is here and that every process serves its page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from http import HTTPStatus

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import HTMLResponse, JSONResponse

PROBLEM_PATH = "/problems/"


@dataclass(frozen=True)
class ProblemType:
    name: str
    status: int
    title: str
    description: str
    description_zh: str

    @property
    def uri(self) -> str:
        return f"{PROBLEM_PATH}{self.name}"


def status_type_name(status: int) -> str:
    """The type of a refusal known by its status alone: the status's phrase (`Not Found` -> `not-found`)."""
    return HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")


NAMED: dict[str, ProblemType] = {
    t.name: t
    for t in [
        ProblemType(
            "validation",
            422,
            "The request is not valid",
            "Fields of the request break a rule. `errors` names each one (`field`, `code`, `message`); correct "
            "them and send the request again.",
            "请求中的字段不符合规则。`errors` 逐一列出（`field`、`code`、`message`），改正后重新提交。",
        ),
        ProblemType(
            "invalid-complaint",
            422,
            "The complaint is not valid",
            "A complaint (or a clue) was refused by intake's rules: `errors` names each field, with a message "
            "in Chinese and English (ID number check character, mobile number, owed period, amount…).",
            "投诉（或线索）未通过受理规则：`errors` 逐项列出字段，并附中英文说明（身份证校验码、手机号码、欠薪期间、金额等）。",
        ),
        ProblemType(
            "idempotency-key-reused",
            422,
            "Idempotency-Key reused",
            "The Idempotency-Key came before with a different request. Use a new key for a new request, or "
            "send exactly the same request again to get the first answer.",
            "该 Idempotency-Key 此前已用于另一个请求。新请求请使用新的键；重发完全相同的请求可得到第一次的答复。",
        ),
        ProblemType(
            "action-refused",
            409,
            "The process refused the action",
            "The case's, referral's or listing's process, or a rule, refuses the action as things stand; "
            "`detail` says why. Read the record again before retrying. Answered with 422 instead when the "
            "request itself cannot be acted on (it names a process the case does not hold, or none).",
            "案件、移送或名单程序（或某条规则）在当前状态下拒绝该操作，`detail` 说明原因；请重新读取记录后再试。"
            "如请求本身无法执行（指向案件没有的程序，或未指明程序），则以 422 答复。",
        ),
        ProblemType(
            "listing-criteria",
            422,
            "The legal criteria for a listing are not met",
            "A proposal to put an employer on the list of major violations does not meet the legal criteria "
            "(amount, workers affected, ground); `detail` names the criterion.",
            "列入拖欠农民工工资失信联合惩戒对象名单的提议不符合法定条件（金额、人数、事由），`detail` 指出哪一项。",
        ),
        ProblemType(
            "unknown-department",
            422,
            "Unknown department",
            "A department named in the request (e.g. invited to a joint interview) is not in the department "
            "directory the referrals service publishes; `detail` lists the known ids.",
            "请求中指明的部门（如联合约谈邀请的部门）不在移送服务发布的部门目录中，`detail` 列出已知部门编号。",
        ),
        ProblemType(
            "employer-already-linked",
            409,
            "Employer already linked",
            "The employer's name is already linked to another unified social credit code in that county (a "
            "name is linked to one code); `credit_code` is the code it is linked to.",
            "该用人单位名称在该县区已关联到另一个统一社会信用代码（一个名称只关联一个代码），`credit_code` 为已关联的代码。",
        ),
        ProblemType(
            "project-registered",
            409,
            "Project already registered",
            "The project register already holds a project with that code, registered with another request; "
            "`project_id` names it: change it with PUT or PATCH.",
            "在建项目台账中已有该编号的项目（由另一次请求登记），`project_id` 为该项目：请用 PUT 或 PATCH 修改。",
        ),
        ProblemType(
            "project-code-taken",
            409,
            "Project code taken",
            "Another project in the register already has the code this change gives.",
            "台账中另一个项目已使用该编号。",
        ),
        ProblemType(
            "rate-limited",
            429,
            "Too many requests",
            "The caller sent too many requests (or too many wrong credentials) in a window. The Retry-After "
            "header says in how many seconds the next one is taken.",
            "调用方在一段时间内请求过多（或凭据错误次数过多）。Retry-After 头说明多少秒后可再次请求。",
        ),
        ProblemType(
            "invalid-target",
            400,
            "Unknown audience",
            "The token request asks for a service that does not exist; `detail` lists the ones there are.",
            "令牌请求指定了不存在的服务，`detail` 列出可用的服务。",
        ),
        ProblemType(
            "not-the-token-issuer",
            421,
            "Not the token issuer",
            "This service verifies tokens but issues none; `token_endpoint`, when present, is the issuer's "
            "address to ask instead.",
            "本服务只校验令牌、不签发令牌；如有 `token_endpoint`，即应改向其申请的签发服务地址。",
        ),
        ProblemType(
            "account-disabled",
            403,
            "Account disabled",
            "The person's account is disabled: it gets no token until an administrator enables it again.",
            "该人员账户已停用，重新启用之前不会签发令牌。",
        ),
        ProblemType(
            "unauthorized-client",
            400,
            "Unauthorized client",
            "The client may not use this grant type: only the console signs people in (grant_type=password), "
            "and the console does nothing else.",
            "该客户端无权使用此授权方式：只有管理后台可以为人员登录（grant_type=password），且管理后台不做其他事。",
        ),
        ProblemType(
            "not-dead-letter",
            409,
            "Not a dead letter",
            "Only a webhook delivery whose retries ran out (a dead letter) is replayed; this one is still being "
            "retried or was delivered. `detail` says which.",
            "只有重试用尽的 Webhook 投递（死信）才能重放；该投递仍在重试或已送达，`detail` 说明是哪一种。",
        ),
    ]
}

_STATUS_NOTES = {
    400: (
        "The request leaves out something it must name, or carries what no request may (a NUL character).",
        "请求缺少必须提供的内容，或含有任何请求都不允许的内容（如 NUL 字符）。",
    ),
    401: (
        "No valid bearer token (or client credentials) came with the request; the WWW-Authenticate header "
        "says which kind is wanted.",
        "请求未附有效的令牌（或客户端凭据）；WWW-Authenticate 头说明需要哪一种。",
    ),
    403: ("The caller's role or scope does not allow this.", "调用方的角色或辖区不允许此操作。"),
    404: (
        "No such record, or none in the caller's scope: the two are not told apart.",
        "没有该记录，或该记录不在调用方辖区内：两者不作区分。",
    ),
    409: (
        "The record changed meanwhile, or the action has nothing left to do; read it again.",
        "记录已被修改，或该操作已无事可做；请重新读取。",
    ),
    413: (
        "The request body is larger than the service accepts; `detail` gives the limit.",
        "请求体超过服务允许的大小，`detail` 给出上限。",
    ),
    421: (
        "The request reached a process that does not answer for it (another host name, or the token issuer's work).",
        "请求到达了不负责处理它的进程（主机名不符，或应由令牌签发服务处理）。",
    ),
    422: ("The request is well formed but cannot be carried out as it stands.", "请求格式正确，但按现状无法执行。"),
    502: (
        "An engine or service the action needs answered with an error of its own.",
        "操作所需的引擎或服务返回了自身的错误。",
    ),
    503: (
        "An engine the action needs cannot be reached now; Retry-After, when present, says when to try again.",
        "操作所需的引擎暂时无法连接；如有 Retry-After 头，说明何时重试。",
    ),
}


def _status_type(status: HTTPStatus) -> ProblemType:
    note, note_zh = _STATUS_NOTES.get(status.value, ("", ""))
    generic = (
        f"The HTTP status {status.value} {status.phrase} (RFC 9110): the status says what happened; "
        "`detail` says why this time."
    )
    generic_zh = (
        f"HTTP 状态 {status.value} {status.phrase}（RFC 9110）：状态码说明发生了什么，`detail` 说明这一次的原因。"
    )
    return ProblemType(
        status_type_name(status.value),
        status.value,
        status.phrase,
        f"{generic} {note}".strip(),
        f"{generic_zh}{note_zh}",
    )


BY_STATUS: dict[str, ProblemType] = {t.name: t for t in (_status_type(s) for s in HTTPStatus if s.value >= 400)}
CATALOGUE: dict[str, ProblemType] = {**BY_STATUS, **NAMED}
# A name that is both would give one page to two kinds of refusal.
assert not set(BY_STATUS) & set(NAMED)


def _page(problem: ProblemType) -> str:
    e = html.escape
    return (
        f'<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{e(problem.title)}</title></head>'
        f"<body><h1>{e(problem.title)}</h1>"
        f"<p>Problem type <code>{e(problem.uri)}</code>, usually with HTTP status {problem.status}.</p>"
        f'<p lang="en">{e(problem.description)}</p><p>{e(problem.description_zh)}</p>'
        '<p><a href="/problems">All problem types / 全部问题类型</a></p></body></html>\n'
    )


def problem_types_router() -> APIRouter:
    router = APIRouter(tags=["problems"])

    @router.get("/problems", include_in_schema=False)
    def every_problem_type() -> JSONResponse:
        return JSONResponse(
            {
                "items": [
                    {"type": t.uri, "status": t.status, "title": t.title, "description": t.description}
                    for t in CATALOGUE.values()
                ]
            }
        )

    @router.get("/problems/{name}", include_in_schema=False, response_class=HTMLResponse)
    def problem_type_page(name: str) -> HTMLResponse:
        problem = CATALOGUE.get(name)
        if problem is None:
            raise HTTPException(404, f"No problem type {name!r}.")
        return HTMLResponse(_page(problem))

    return router


def install_problem_types(app: FastAPI) -> None:
    """Serve the problem types' pages on `app` (once, however many of the edge's installers call this)."""
    if getattr(app.state, "problem_types_served", False):
        return
    app.state.problem_types_served = True
    app.include_router(problem_types_router())
