# Managed by float (float-infra-dns): names and comments pasted into zone files, so that
# a value can never start another record or a directive.
import re

from ansible.errors import AnsibleFilterError

_PLAIN = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_*")


def zone_name(value):
    """An owner name in master-file syntax: labels separated by '.', every character
    other than letters, digits, '-', '_' and '*' written \\DDD (RFC 1035 5.1), so it stays
    one literal name. A name of '@' or an empty label is refused."""
    s = str(value)
    if s == "" or s == "@":
        raise AnsibleFilterError("zone file name %r refused" % s)
    absolute = s.endswith(".")
    labels = (s[:-1] if absolute else s).split(".")
    if any(label == "" for label in labels):
        raise AnsibleFilterError("zone file name %r has an empty label: refused" % s)
    out = ".".join("".join(c if c in _PLAIN else "".join("\\%03d" % b for b in c.encode("utf-8")) for c in label) for label in labels)
    return out + ("." if absolute else "")


def zone_text(value):
    """Record data in master-file form, as float computes it: refused when it holds a
    line break or another control character, ';' or a parenthesis (which would end the
    record or let it continue on the next line)."""
    s = str(value)
    for c in s:
        if ord(c) < 0x20 or ord(c) == 0x7F or c in ";()":
            raise AnsibleFilterError("zone file data %r holds %r: refused" % (s, c))
    return s


def zone_comment(value):
    """Text for a comment: line breaks and other control characters become spaces."""
    return "".join(" " if ord(c) < 0x20 or ord(c) == 0x7F else c for c in str(value))


def dns_zone(value):
    """A zone name float writes into named.conf and a file name (db.<zone>): letters,
    digits, '-' and '_' in dot-separated labels, nothing else (no quote, no '/')."""
    s = str(value)
    if not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*", s):
        raise AnsibleFilterError("zone name %r refused: letters, digits, '-', '_' in dot-separated labels only" % s)
    return s


class FilterModule:
    def filters(self):
        return {"zone_name": zone_name, "zone_text": zone_text, "zone_comment": zone_comment, "dns_zone": dns_zone}
