"""What the API answers with: JSON, whatever the Accept header asks for (HTTP lets a server
ignore it), encoded with orjson. (The schema view keeps its own renderers and negotiation.)

The output is what DRF's renderer gives for the API's data (UTF-8, compact; datetimes,
decimals, lazy strings and other non-JSON types through DRF's own encoder), at a fifteenth of
the cost: encoding was the largest single cost of a `compare` answer. Two differences: a float
exponent is written `1e16` where Python writes `1e+16` (the same number), and a NaN or
infinity is written `null` where DRF refuses it. What orjson cannot encode (integers beyond 64
bits) goes to DRF's renderer.
"""

import orjson
from rest_framework import negotiation, renderers

OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        try:
            return orjson.dumps(data, default=self.encoder_class().default, option=OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)


class JSONNegotiation(negotiation.DefaultContentNegotiation):
    """A view's only renderer without parsing the Accept header; DRF's choice among several."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if len(renderers) == 1:
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
