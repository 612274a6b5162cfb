"""Handan's county-level divisions (县级行政区划代码 → name): where the default deployment's complaints and projects
belong. One list for every service that checks a county code (intake's complaints and sites, the monitoring
service's register and funds). Configuration, not law: a deployment for another city passes its own list, and the
functional zones (经济技术开发区, 冀南新区) can be added to it with the codes the bureau uses for them."""

from __future__ import annotations

from types import MappingProxyType

HANDAN_COUNTIES = MappingProxyType(
    {
        "130402": "邯山区",
        "130403": "丛台区",
        "130404": "复兴区",
        "130406": "峰峰矿区",
        "130407": "肥乡区",
        "130408": "永年区",
        "130423": "临漳县",
        "130424": "成安县",
        "130425": "大名县",
        "130426": "涉县",
        "130427": "磁县",
        "130430": "邱县",
        "130431": "鸡泽县",
        "130432": "广平县",
        "130433": "馆陶县",
        "130434": "魏县",
        "130435": "曲周县",
        "130481": "武安市",
    }
)
