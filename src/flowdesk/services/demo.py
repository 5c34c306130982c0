"""The demo bank: a head office with four departments, three branches, ~40 people
with their job levels, the loan, contract review, reimbursement, complaint and account
opening apps and the customers record app, so a fresh install can be tried at once.

Job levels (职级) follow a common two-ladder scheme: P3–P6 for staff, M3 for the heads
of departments and branches, M4 for the two deputy heads, M5 for the president; the
reimbursement app's automatic approval reads them (applicant.job_level)."""

from __future__ import annotations

from dataclasses import dataclass

from flowdesk.engines.apps import load_bundled_template
from flowdesk.services import apps, org, records
from flowdesk.services.context import ServiceContext
from flowdesk.services.ticket_import import importing_user

DEMO_PASSWORD = "Demo@2026"


@dataclass(frozen=True)
class Person:
    username: str
    name: str
    department: str
    manager: str | None = None
    roles: tuple[str, ...] = ()
    head: bool = False
    admin: bool = False
    job_level: str | None = None


DEPARTMENTS: tuple[tuple[str, str, str, str | None], ...] = (
    ("hq", "Head office", "总行", None),
    ("legal", "Legal & Compliance", "法律合规部", "hq"),
    ("finance", "Planning & Finance", "计划财务部", "hq"),
    ("risk", "Risk Management", "风险管理部", "hq"),
    ("credit", "Credit Approval", "授信审批部", "hq"),
    ("branch-bj", "Beijing Branch", "北京分行", "hq"),
    ("branch-sh", "Shanghai Branch", "上海分行", "hq"),
    ("branch-gz", "Guangzhou Branch", "广州分行", "hq"),
)

ROLES: tuple[tuple[str, str, str], ...] = (
    ("finance_reviewer", "Finance reviewer", "财务审查岗"),
    ("credit_committee", "Credit committee", "信贷审批委员会"),
    ("disbursement", "Disbursement", "放款岗"),
    ("auditor", "Auditor", "审计员"),
    ("contract_reviewer", "Contract reviewer", "合同审查岗"),
    ("deputy_head", "Deputy head", "分管副行长"),
    # sends the messages that resume waiting tickets (POST /api/v1/messages, ADR 0023)
    ("message_sender", "Message sender", "消息发送方"),
    # keep the customers record app's table (ADR 0038): the branches' loan officers
    ("customer_manager", "Customer manager", "客户经理"),
    # the account opening app's 会签 (compliance and operations) and its 或签 of heads
    ("aml_reviewer", "Compliance (AML) reviewer", "合规反洗钱岗"),
    ("operations_reviewer", "Operations reviewer", "运营主管"),
    ("branch_head", "Branch head", "分行负责人"),
    # the branches' counter clerks who file account openings (they read the customers)
    ("account_clerk", "Corporate account clerk", "对公柜员"),
)

HEAD_OFFICE: tuple[Person, ...] = (
    Person("admin", "系统管理员", "hq", admin=True),
    Person("zhou.hang", "周航（行长）", "hq", head=True, job_level="M5"),
    # two deputy heads: either signs a contract (或签, the contract review app)
    Person("xiao.yun", "肖云（副行长）", "hq", "zhou.hang", ("deputy_head",), job_level="M4"),
    Person("tian.ye", "田野（副行长）", "hq", "zhou.hang", ("deputy_head",), job_level="M4"),
    # Legal
    Person("wang.fang", "王芳", "legal", "zhou.hang", head=True, job_level="M3"),
    # the contract reviewers: one each in Legal, Finance and Risk (合同会签)
    Person("xu.ming", "徐明", "legal", "wang.fang", ("contract_reviewer",), job_level="P5"),
    # the anti-money-laundering reviewer of account openings (开户合规审查)
    Person("he.jia", "何佳", "legal", "wang.fang", ("aml_reviewer",), job_level="P4"),
    Person("fu.qiang", "付强", "legal", "wang.fang", job_level="P6"),
    # Finance
    Person("gao.feng", "高峰", "finance", "zhou.hang", head=True, job_level="M3"),
    Person(
        "liu.yang",
        "刘洋",
        "finance",
        "gao.feng",
        ("finance_reviewer", "contract_reviewer"),
        job_level="P5",
    ),
    Person("ma.li", "马丽", "finance", "gao.feng", ("finance_reviewer",), job_level="P4"),
    Person("zhao.lei", "赵磊", "finance", "gao.feng", ("disbursement",), job_level="P4"),
    Person("qian.yu", "钱雨", "finance", "gao.feng", ("disbursement",), job_level="P3"),
    # Risk
    Person("lin.tao", "林涛", "risk", "zhou.hang", head=True, job_level="M3"),
    Person("sun.li", "孙丽", "risk", "lin.tao", ("auditor",), job_level="P5"),
    Person("hu.bin", "胡斌", "risk", "lin.tao", ("contract_reviewer",), job_level="P4"),
    Person("guo.qing", "郭庆", "risk", "lin.tao", job_level="P3"),
    # Credit
    Person(
        "chen.jing", "陈静", "credit", "zhou.hang", ("credit_committee",), head=True, job_level="M3"
    ),
    Person("yang.guang", "杨光", "credit", "chen.jing", ("credit_committee",), job_level="P6"),
    Person("luo.xin", "罗欣", "credit", "chen.jing", ("credit_committee",), job_level="P5"),
    Person("song.jie", "宋杰", "credit", "chen.jing", job_level="P4"),
)

# the staff of a branch by position in its list: two seniors, then juniors
_BRANCH_LEVELS = ("P6", "P5", "P4", "P4", "P3", "P3")
# the senior is a customer manager (客户经理), the next the operations supervisor (运营主管),
# the two P4s counter clerks (对公柜员) who file account openings
_BRANCH_ROLES: dict[str, tuple[str, ...]] = {
    "P6": ("customer_manager",),
    "P5": ("operations_reviewer",),
    "P4": ("account_clerk",),
}

BRANCHES: tuple[Person, ...] = tuple(
    person
    for code, head, head_name, staff in (
        (
            "branch-bj",
            "li.na",
            "李娜",
            (
                ("zhang.wei", "张伟"),
                ("wu.min", "吴敏"),
                ("zheng.hao", "郑浩"),
                ("feng.xue", "冯雪"),
                ("cao.yu", "曹宇"),
                ("deng.chao", "邓超"),
            ),
        ),
        (
            "branch-sh",
            "huang.lei",
            "黄磊",
            (
                ("xie.ting", "谢婷"),
                ("han.bing", "韩冰"),
                ("tang.jun", "唐军"),
                ("peng.fei", "彭飞"),
                ("cai.wen", "蔡文"),
                ("jiang.lan", "蒋兰"),
            ),
        ),
        (
            "branch-gz",
            "yu.hong",
            "余红",
            (
                ("pan.yue", "潘越"),
                ("du.kang", "杜康"),
                ("ye.qiu", "叶秋"),
                ("shen.kai", "沈凯"),
                ("lu.yao", "陆瑶"),
                ("wei.dong", "魏东"),
            ),
        ),
    )
    for person in (
        Person(head, head_name, code, "zhou.hang", ("branch_head",), head=True, job_level="M3"),
        *(
            Person(user, name, code, head, _BRANCH_ROLES.get(level, ()), job_level=level)
            for (user, name), level in zip(staff, _BRANCH_LEVELS, strict=True)
        ),
    )
)

PEOPLE = HEAD_OFFICE + BRANCHES
# published in this order: account_opening links to customers, which must exist first
TEMPLATES = (
    "loan",
    "contract_review",
    "reimbursement",
    "complaint",
    "customers",
    "account_opening",
)
# The customers record app's demo rows: (customer name, manager, segment), each filed by
# its manager (a customer manager, demo role customer_manager).
CUSTOMERS: tuple[tuple[str, str, str], ...] = (
    ("北京华信科技有限公司", "zhang.wei", "large"),
    ("北京京西建材有限公司", "zhang.wei", "sme"),
    ("上海浦江物流有限公司", "xie.ting", "large"),
    ("上海申美餐饮管理有限公司", "xie.ting", "micro"),
    ("广州南粤电子有限公司", "pan.yue", "sme"),
    ("广州珠江纺织有限公司", "pan.yue", "micro"),
)


def load(ctx: ServiceContext, *, password: str = DEMO_PASSWORD) -> bool:
    """Loads the demo bank into an empty database; returns False when users already exist."""
    if org.has_users(ctx):
        return False
    for key, name_en, name_zh in ROLES:
        org.ensure_role(ctx, key=key, name_en=name_en, name_zh=name_zh)
    for code, name_en, name_zh, parent in DEPARTMENTS:
        org.create_department(ctx, code=code, name_en=name_en, name_zh=name_zh, parent_code=parent)
    shared_hash = ctx.hasher.hash(password)
    for person in PEOPLE:
        org.create_user(
            ctx,
            username=person.username,
            display_name=person.name,
            password=None,
            password_hash=shared_hash,
            department_code=person.department,
            manager_username=person.manager,
            roles=person.roles,
            is_admin=person.admin,
            heads_department=person.head,
            job_level=person.job_level,
            email=f"{person.username}@demo-bank.example",
        )
    for name in TEMPLATES:
        apps.publish(ctx, load_bundled_template(name))
    _load_customers(ctx)
    return True


def _load_customers(ctx: ServiceContext) -> None:
    for customer, manager, segment in CUSTOMERS:
        records.create(
            ctx,
            actor=importing_user(ctx, manager),
            app_key="customers",
            values={"customer_name": customer, "manager": manager, "segment": segment},
        )
