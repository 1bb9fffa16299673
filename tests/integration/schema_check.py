#!/usr/bin/python3
"""schema_check.py - checks YAML topology files against rmqtopo's JSON Schema.

    /usr/bin/python3 schema_check.py SCHEMA [--env-file F] FILE...
    /usr/bin/python3 schema_check.py SCHEMA --list LIST    (LIST: "FILE[<TAB>ENV_FILE]" lines)
    /usr/bin/python3 schema_check.py SCHEMA --meta

Debian's python3-jsonschema (draft-07) and python3-yaml, as test_schema.sh runs it. Prints
one line a file: "accepted FILE" or "refused FILE: PATH: MESSAGE" (every error), and exits 0
when every file was accepted, 1 when one was refused, 2 on a file that is not YAML.

The files are read as rmqtopo reads them, not as PyYAML would by default:
- YAML 1.2 core schema: "yes", "on", "0777" and dates are strings or decimal numbers, as in
  provision/yamltree.c (and the YAML language server);
- "<<" is an ordinary key (rmqtopo refuses merge keys; the schema refuses the key);
- map keys are their text ("404:" is the key "404", "true:" the key "true");
- ${NAME}, ${NAME:-default}, ${NAME-default} and $${ are replaced first, from --env-file
  (KEY=VALUE lines, a data case's env file) and nothing else, as the data cases run.
--list checks many files in one run (each with its own env file), for speed.
--meta instead checks that SCHEMA is a valid draft-07 schema.
"""
import json
import re
import sys

import jsonschema
import yaml


class CoreLoader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema's implicit types and no merge keys."""


CoreLoader.yaml_implicit_resolvers = {}
_RESOLVERS = [
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$",
     list("-+0123456789")),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
     r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", list("-+0123456789.")),
]
for _tag, _rx, _first in _RESOLVERS:
    CoreLoader.add_implicit_resolver(_tag, re.compile(_rx), _first)


def _int(loader, node):
    s = loader.construct_scalar(node)
    if s.startswith("0x"):
        return int(s[2:], 16)
    if s.startswith("0o"):
        return int(s[2:], 8)
    return int(s, 10)


def _float(loader, node):
    s = loader.construct_scalar(node)
    low = s.lower()
    if low.endswith(".inf"):
        return float("-inf") if s.startswith("-") else float("inf")
    if low == ".nan":
        return float("nan")
    return float(s)


def _map(loader, node):
    out = {}
    for knode, vnode in node.value:
        key = knode.value if isinstance(knode, yaml.ScalarNode) else str(
            loader.construct_object(knode, deep=True))
        out[key] = loader.construct_object(vnode, deep=True)
    return out


CoreLoader.add_constructor("tag:yaml.org,2002:int", _int)
CoreLoader.add_constructor("tag:yaml.org,2002:float", _float)
CoreLoader.add_constructor("tag:yaml.org,2002:map", _map)
# a "<<" key resolves to the merge tag in SafeLoader; here it is a string like any other
CoreLoader.add_constructor("tag:yaml.org,2002:merge", lambda l, n: l.construct_scalar(n))

_VAR = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}")


def substitute(text, env):
    def one(m):
        if m.group(0) == "$${":
            return "${"
        name, op, default = m.group(1), m.group(2), m.group(3)
        value = env.get(name)
        if value is not None and (op != ":-" or value != ""):
            return value
        if op:
            return default
        raise ValueError("environment variable '%s' is not set" % name)
    return _VAR.sub(one, text)


def read_env(path):
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line and "=" in line:
                k, v = line.split("=", 1)
                env[k] = v
    return env


def where(err):
    parts = [str(p) for p in err.absolute_path]
    return ".".join(parts) if parts else "(top)"


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 64
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    args = argv[2:]
    if args[:1] == ["--meta"]:
        jsonschema.Draft7Validator.check_schema(schema)
        print("valid draft-07 schema")
        return 0
    tasks = []
    if args[:1] == ["--list"]:
        with open(args[1], encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if parts[0]:
                    tasks.append((parts[0], parts[1] if len(parts) > 1 and parts[1] else None))
    elif args[:1] == ["--env-file"]:
        tasks = [(p, args[1]) for p in args[2:]]
    else:
        tasks = [(p, None) for p in args]
    validator = jsonschema.Draft7Validator(schema)
    status = 0
    for path, env_file in tasks:
        env = read_env(env_file) if env_file else {}
        try:
            with open(path, encoding="utf-8") as f:
                doc = yaml.load(substitute(f.read(), env), Loader=CoreLoader)
        except (yaml.YAMLError, ValueError, UnicodeDecodeError) as e:
            print("not-yaml %s: %s" % (path, str(e).replace("\n", " ")))
            status = max(status, 2)
            continue
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if not errors:
            print("accepted %s" % path)
            continue
        status = max(status, 1)
        for e in errors:
            print("refused %s: %s: %s" % (path, where(e), e.message[:300].replace("\n", " ")))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
