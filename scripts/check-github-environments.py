#!/usr/bin/env python3
"""Checks that a repository's GitHub environments match what the CI roles
(templates/ci/github-roles.yaml) trust, before anyone relies on them:

  ENV           deployment branch policy exactly `main`; required reviewers
                that may not approve their own runs, and no bypass for
                administrators (for the reviewed envs);
                variables AWS_REGION, AWS_DEPLOY_ROLE_ARN, AWS_OPERATE_ROLE_ARN
  ENV-operate   deployment branch policy exactly `main`; variables
                AWS_REGION, AWS_PLAN_ROLE_ARN, AWS_OPERATE_ROLE_ARN
  role ARNs     the env's own roles: role/<prefix>-ci/<prefix>-<env>-github-*

Usage: scripts/check-github-environments.py OWNER/REPO [--envs dev,test,prod]
           [--reviewed test,prod] [--prefix pricewatch]
A token that may read the repository's environments comes from GH_TOKEN or
GITHUB_TOKEN. GITHUB_API_FIXTURES=DIR reads each API answer from
DIR/<path with / as __>.json instead (tests). Exit 0: all as required;
1: problems (each printed); 2: usage or the API could not be read.
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.request

API = "https://api.github.com"


class Unreadable(Exception):
    pass


def get(path):
    fixtures = os.environ.get("GITHUB_API_FIXTURES")
    if fixtures:
        name = os.path.join(fixtures, path.strip("/").replace("/", "__") + ".json")
        if not os.path.exists(name):
            raise Unreadable(f"no fixture {name} (404)")
        with open(name, encoding="utf-8") as f:
            return json.load(f)
    token = os.environ.get("GH_TOKEN") or os.environ.get("GITHUB_TOKEN")
    if not token:
        raise Unreadable("set GH_TOKEN or GITHUB_TOKEN to a token that may read the repository's environments")
    request = urllib.request.Request(
        API + path,
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as e:
        raise Unreadable(f"GET {path}: HTTP {e.code}") from e
    except urllib.error.URLError as e:
        raise Unreadable(f"GET {path}: {e.reason}") from e


def check_environment(repo, name, reviewed, variables, role_names, problems):
    base = f"/repos/{repo}/environments/{name}"
    try:
        environment = get(base)
    except Unreadable as e:
        problems.append(f"environment {name}: cannot read it ({e}); create it (docs/operations.md)")
        return
    policy = environment.get("deployment_branch_policy") or {}
    if not policy.get("custom_branch_policies"):
        problems.append(
            f"environment {name}: deployment branches are not limited to `main` "
            "(set Deployment branches and tags to Selected, with the single rule `main`)"
        )
    else:
        branches = get(f"{base}/deployment-branch-policies").get("branch_policies", [])
        rules = sorted((b.get("type", "branch"), b.get("name")) for b in branches)
        if rules != [("branch", "main")]:
            problems.append(f"environment {name}: deployment branch rules are {rules}, not only branch `main`")
    rules = {r.get("type"): r for r in environment.get("protection_rules", [])}
    reviewers = rules.get("required_reviewers")
    if reviewed:
        if not reviewers or not reviewers.get("reviewers"):
            problems.append(f"environment {name}: no required reviewers (an approval is the only way in)")
        elif not reviewers.get("prevent_self_review"):
            problems.append(
                f"environment {name}: reviewers may approve their own runs (turn on Prevent self-review)"
            )
        # GitHub lets administrators skip the reviewers unless this is off
        # (the API's default is true).
        if environment.get("can_admins_bypass", True):
            problems.append(
                f"environment {name}: administrators may bypass its reviewers "
                "(turn off Allow administrators to bypass configured protection rules)"
            )
    try:
        present = {v["name"]: v.get("value", "") for v in get(f"{base}/variables").get("variables", [])}
    except Unreadable as e:
        problems.append(f"environment {name}: cannot read its variables ({e})")
        return
    for variable in variables:
        value = present.get(variable)
        if not value:
            problems.append(f"environment {name}: variable {variable} is not set")
            continue
        expected = role_names.get(variable)
        if expected and not value.endswith(f":role/{expected}"):
            problems.append(f"environment {name}: {variable} is {value}, not the role {expected}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repository", help="OWNER/REPO")
    parser.add_argument("--envs", default="dev,test,prod")
    parser.add_argument("--reviewed", default="test,prod", help="envs whose deploys need an approval")
    parser.add_argument("--prefix", default="pricewatch", help="stack_prefix of environments/defaults.yaml")
    args = parser.parse_args()
    if args.repository.count("/") != 1:
        parser.error(f"`{args.repository}` is not OWNER/REPO")
    envs = [e for e in args.envs.split(",") if e]
    reviewed = {e for e in args.reviewed.split(",") if e}
    problems = []
    try:
        for env in envs:
            roles = {
                kind: f"{args.prefix}-ci/{args.prefix}-{env}-github-{kind.split('_')[1].lower()}"
                for kind in ("AWS_PLAN_ROLE_ARN", "AWS_DEPLOY_ROLE_ARN", "AWS_OPERATE_ROLE_ARN")
            }
            check_environment(
                args.repository, env, env in reviewed,
                ["AWS_REGION", "AWS_DEPLOY_ROLE_ARN", "AWS_OPERATE_ROLE_ARN"], roles, problems,
            )
            check_environment(
                args.repository, f"{env}-operate", False,
                ["AWS_REGION", "AWS_PLAN_ROLE_ARN", "AWS_OPERATE_ROLE_ARN"], roles, problems,
            )
    except Unreadable as e:
        print(f"check-github-environments: {e}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in the GitHub environments of {args.repository}", file=sys.stderr)
        return 1
    print(f"GitHub environments of {args.repository} as required: {', '.join(envs)} (+ -operate)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
