"""The API's JSON parser: DRF's, refusing bodies nested deeper than any operation reads.

Python's JSON decoder recurses once per level, so a few kilobytes of ``[[[[…`` exhaust the interpreter's
recursion limit (a RecursionError, a 500 until now); a body nested within that limit but deeper than
``API_JSON_MAX_DEPTH`` would only make the serializers recurse as deep. Both are refused as a client error.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers


class NestedTooDeep(exceptions.ParseError):
    default_detail = _("The JSON body is nested too deeply.")
    default_code = "nested_too_deep"


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise NestedTooDeep() from None
        if json_depth(data) > settings.API_JSON_MAX_DEPTH:
            raise NestedTooDeep()
        return data


def json_depth(value) -> int:
    """How many arrays and objects ``value`` nests (0 for a scalar), without recursing."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in children)
    return deepest
