"""App definitions: a form and a process checked together, read from and written to YAML.

This is where the engines meet: `parse_app` checks the app's own keys, the form,
the process and every branch condition against the form's fields, reporting all
problems at once; `ConditionEvaluator` answers the process engine's condition
questions on stored form values; bundled templates ship working apps.
"""

from .bpmn_io import BpmnAppImport, dump_app_bpmn, load_app_bpmn
from .conditions import ConditionEvaluator
from .field_access import ever_hidden, hidden_from, start_hidden, start_locked, start_locks
from .form_io import parseable_fields, with_form
from .parse import check_conditions, field_types, parse_app
from .spec import AppSpec
from .templates import bundled_template_names, load_bundled_template
from .yaml_io import MAX_YAML_BYTES, dump_app_yaml, load_app_yaml, read_yaml

__all__ = [
    "MAX_YAML_BYTES",
    "AppSpec",
    "BpmnAppImport",
    "ConditionEvaluator",
    "bundled_template_names",
    "check_conditions",
    "dump_app_bpmn",
    "dump_app_yaml",
    "ever_hidden",
    "field_types",
    "hidden_from",
    "load_app_bpmn",
    "load_app_yaml",
    "load_bundled_template",
    "parse_app",
    "parseable_fields",
    "read_yaml",
    "start_hidden",
    "start_locked",
    "start_locks",
    "with_form",
]
