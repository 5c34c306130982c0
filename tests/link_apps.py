"""Record apps with linked records for tests (ADR 0038): credit lines link to the demo's
customers (look-up of the manager and segment); credit groups link many lines and roll
their limits up (sum, count, max)."""

from __future__ import annotations

from flowdesk.services import apps
from flowdesk.services.context import ServiceContext

LINES = """
key: credit_lines
name: {en: Credit lines, zh: 授信额度}
serial_prefix: CL
records: {editors: [customer_manager], readers: [auditor]}
form:
  fields:
    - {key: line_name, type: text, label: {en: Line, zh: 额度名称}, required: true}
    - key: customer
      type: link
      app: customers
      lookup: [manager, segment]
      label: {en: Customer, zh: 客户}
      required: true
    - {key: credit_limit, type: money, currency: CNY, label: {en: Limit, zh: 额度}}
"""

GROUPS = """
key: credit_groups
name: {en: Credit groups, zh: 集团授信}
serial_prefix: CG
records: {editors: [customer_manager], readers: [auditor]}
form:
  fields:
    - {key: group_name, type: text, label: {en: Group, zh: 集团名称}, required: true}
    - key: lines
      type: link
      app: credit_lines
      multiple: true
      lookup: [credit_limit]
      label: {en: Lines, zh: 额度}
    - {key: total, type: rollup, link: lines, field: credit_limit, aggregate: sum,
       label: {en: Total, zh: 合计}}
    - {key: how_many, type: rollup, link: lines, aggregate: count,
       label: {en: Lines, zh: 笔数}}
    - {key: biggest, type: rollup, link: lines, field: credit_limit, aggregate: max,
       label: {en: Largest, zh: 最大}}
"""


def publish_link_apps(ctx: ServiceContext) -> None:
    apps.publish_yaml(ctx, LINES)
    apps.publish_yaml(ctx, GROUPS)
