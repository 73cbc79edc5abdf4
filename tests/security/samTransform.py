"""Prints template.yaml as CloudFormation JSON after the SAM transform (the translator cfn-lint ships).

Usage: python3 samTransform.py template.yaml > transformed.json. Exit 3 when cfn-lint / samtranslator are missing.
"""
import json
import sys

try:
    from cfnlint.decode import cfn_yaml
    from cfnlint.template.transforms._sam import Transform
except ImportError as error:  # pragma: no cover - reported by the test
    print(f"cfn-lint with the SAM translator is not installed: {error}", file=sys.stderr)
    sys.exit(3)

path = sys.argv[1]
template = cfn_yaml.load(path)
transform = Transform(path, template, "us-east-1")
problems = transform.transform_template()
if problems:
    for problem in problems:
        print(problem.message, file=sys.stderr)
    sys.exit(2)
json.dump(transform.template(), sys.stdout, default=str)
