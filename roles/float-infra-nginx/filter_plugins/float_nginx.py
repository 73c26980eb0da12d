# Managed by float (float-infra-nginx): quoting of configuration strings pasted into
# nginx's configuration, so a value is always one literal token, whatever it holds.
from ansible.errors import AnsibleFilterError


def _text(value, what):
    s = str(value)
    for c in s:
        if ord(c) < 0x20 or ord(c) == 0x7F:
            raise AnsibleFilterError("%s %r holds a control character (0x%02x): refused" % (what, s, ord(c)))
    return s


def nginx_quote(value, variables=False):
    """A double-quoted nginx string whose value is `value`, verbatim.

    nginx reads backslash escapes for \\ and " in quoted strings; other characters are
    literal. In directives that expand $variables (add_header, return, proxy_ssl_name,
    ssl_certificate, ...) pass variables=True: a literal $ is then written
    ${float_dollar}, a variable float.conf defines as "$".
    """
    s = _text(value, "nginx string")
    s = s.replace("\\", "\\\\").replace('"', '\\"')
    if variables:
        s = s.replace("$", "${float_dollar}")
    return '"' + s + '"'


def nginx_location(value):
    """A location prefix: quoted, and refused unless it starts with '/' (so that it can
    never turn into a regular expression (~) or an exact match (=))."""
    s = _text(value, "location path")
    if not s.startswith("/"):
        raise AnsibleFilterError("location path %r does not start with '/': refused" % s)
    return nginx_quote(s)


class FilterModule:
    def filters(self):
        return {"nginx_quote": nginx_quote, "nginx_location": nginx_location}
