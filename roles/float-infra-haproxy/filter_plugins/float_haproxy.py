# Managed by float (float-infra-haproxy): quoting of configuration strings pasted into
# haproxy's configuration and the nftables drop-in, so a value is always one literal
# token (or an inert comment), whatever it holds.
import re

from ansible.errors import AnsibleFilterError


def _text(value, what):
    s = str(value)
    for c in s:
        if ord(c) < 0x20 or ord(c) == 0x7F:
            raise AnsibleFilterError("%s %r holds a control character (0x%02x): refused" % (what, s, ord(c)))
    return s


def haproxy_quote(value):
    """A single-quoted haproxy word whose value is `value`, verbatim: nothing is expanded
    inside single quotes, and a quote itself is written '\\'' (quoted words concatenate)."""
    return "'" + _text(value, "haproxy string").replace("'", "'\\''") + "'"


def haproxy_comment(value):
    """Text for a comment line: refused when it holds a line break or another control character."""
    return _text(value, "comment")


def nft_comment(value):
    """Text for an nftables comment "...": characters other than letters, digits and
    ' ._:/@+-' become '_', at most 128 bytes (nft's limit)."""
    return re.sub(r"[^A-Za-z0-9 ._:/@+-]", "_", str(value))[:128]


class FilterModule:
    def filters(self):
        return {"haproxy_quote": haproxy_quote, "haproxy_comment": haproxy_comment, "nft_comment": nft_comment}
