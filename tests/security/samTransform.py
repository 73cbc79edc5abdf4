"""Prints template.yaml as CloudFormation JSON after its transforms, in CloudFormation's order: the Fn::ForEach loops of
AWS::LanguageExtensions first, then the SAM transform (the translator cfn-lint ships).

The loops are expanded here, not by cfn-lint's language-extensions transform: that one also resolves every Ref to a
parameter's default and every Fn::FindInMap, which CloudFormation resolves later with the stack's own values, and
the tests read those references as written.

Usage: python3 samTransform.py template.yaml > transformed.json. Exit 3 when cfn-lint / samtranslator are missing.
"""
import json
import re
import sys

try:
    from cfnlint.decode import cfn_yaml
    from cfnlint.template.transforms._sam import Transform
except ImportError as error:  # pragma: no cover - reported by the test
    print(f"cfn-lint with the SAM translator is not installed: {error}", file=sys.stderr)
    sys.exit(3)

LOOP = "Fn::ForEach::"


def substitute(value, identifier, item):
    """${Id} and &{Id} (the value without non-alphanumerics) in keys and strings; Ref: Id is the value itself."""
    if isinstance(value, str):
        return value.replace("${" + identifier + "}", item).replace(
            "&{" + identifier + "}", re.sub(r"[^A-Za-z0-9]", "", item)
        )
    if isinstance(value, list):
        return [substitute(v, identifier, item) for v in value]
    if isinstance(value, dict):
        if list(value.keys()) == ["Ref"] and value["Ref"] == identifier:
            return item
        return {substitute(k, identifier, item): substitute(v, identifier, item) for k, v in value.items()}
    return value


def named(value):
    """Ref / Fn::GetAtt of a logical id written as an Fn::Sub with nothing left to substitute: that id."""
    literal = lambda v: v["Fn::Sub"] if isinstance(v, dict) and list(v) == ["Fn::Sub"] and isinstance(v["Fn::Sub"], str) and "${" not in v["Fn::Sub"] else None
    if isinstance(value, list):
        return [named(v) for v in value]
    if not isinstance(value, dict):
        return value
    if list(value) == ["Ref"] and literal(value["Ref"]):
        return {"Ref": literal(value["Ref"])}
    if list(value) == ["Fn::GetAtt"] and isinstance(value["Fn::GetAtt"], list) and literal(value["Fn::GetAtt"][0]):
        return {"Fn::GetAtt": [literal(value["Fn::GetAtt"][0])] + value["Fn::GetAtt"][1:]}
    return {k: named(v) for k, v in value.items()}


def expand(value):
    if isinstance(value, list):
        return [expand(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, v in value.items():
        if not str(key).startswith(LOOP):
            out[str(key)] = expand(v)
            continue
        identifier, collection, fragment = v
        for item in collection:
            for k, made in expand(named(substitute(fragment, identifier, str(item)))).items():
                if k in out:
                    raise ValueError(f"{key}: {k} is made twice")
                out[k] = made
    return out


path = sys.argv[1]
template = json.loads(json.dumps(cfn_yaml.load(path), default=str))
transforms = template.get("Transform", [])
transforms = transforms if isinstance(transforms, list) else [transforms]
if "AWS::LanguageExtensions" in transforms:
    for section in ("Conditions", "Resources", "Outputs"):
        if section in template:
            template[section] = expand(template[section])
    template["Transform"] = [t for t in transforms if t != "AWS::LanguageExtensions"]
transform = Transform(path, template, "us-east-1")
problems = transform.transform_template()
if problems:
    for problem in problems:
        print(problem.message, file=sys.stderr)
    sys.exit(2)
json.dump(transform.template(), sys.stdout, default=str)
