#!/usr/bin/env python3
"""Checks the cluster manifests of scripts/deploy/ and runs what they run, locally, with N = 2.

Usage: deploy_check.py --deploy DIR --sim SIM --merge MERGE --work DIR

Kubernetes (scripts/deploy/k8s): the YAML parses; the shards Job is a batch/v1 Indexed Job whose
completions, parallelism and SHARDS agree, whose pods mount the results claim where RESULTS
points, and whose runner flags (SIM_ARGS) the simulation accepts; the merge Job reads the
same claim and SHARDS. Then each shard pod's command runs as a local process (the
manifest's environment, with SIM, SIM_ARGS, SHARDS, RESULTS and MERGE pointed at this
build, and JOB_COMPLETION_INDEX set as Kubernetes sets it), all at once, then the merge
pod's command; the merged report must equal one unsharded run (compare_reports.py).
Slurm (scripts/deploy/slurm): the scripts pass sh -n; the array tasks and the merge run as local
processes with the variables Slurm sets; submit.sh, with a stand-in sbatch on PATH, submits
an array of N tasks and a merge that depends on it.
Prints one line per problem and exits 1 when there is any.
"""
import argparse
import json
import os
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_reports  # noqa: E402

problems = []
TEST_ARGS = "--seeds=60 --bug_one_in=100 --ops=20"


def need(condition, what):
    if not condition:
        problems.append(what)
    return condition


def env_of(container):
    return {e["name"]: str(e["value"]) for e in container.get("env", [])}


def run(command, env, cwd=None):
    full = dict(os.environ)
    full.update(env)
    return subprocess.Popen(command, env=full, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def finish(process, what, expected):
    out, _ = process.communicate(timeout=120)
    need(process.returncode == expected,
         f"{what}: exit {process.returncode}, expected {expected}:\n{out}")
    return out


def same_as_unsharded(args, results, sim):
    whole = os.path.join(results, "whole.json")
    subprocess.run([sim] + TEST_ARGS.split() + [f"--json={whole}"], capture_output=True)
    with open(whole, encoding="utf-8") as f:
        a = json.load(f)
    with open(os.path.join(results, "merged.json"), encoding="utf-8") as f:
        b = json.load(f)
    out = []
    compare_reports.diff(a, b, "", out)
    need(not out, f"{args}: merged report differs from one run: {out[:5]}")
    need(b.get("merged_shards") == 2, f"{args}: merged_shards is {b.get('merged_shards')}")


def job_container(doc):
    return doc["spec"]["template"]["spec"]["containers"][0]


def check_k8s_shape(shards_docs, merge_docs, sim):
    claims = [d for d in shards_docs if d.get("kind") == "PersistentVolumeClaim"]
    jobs = [d for d in shards_docs if d.get("kind") == "Job"]
    if not need(len(claims) == 1 and len(jobs) == 1, "k8s: expected one claim and one Job"):
        return None
    job = jobs[0]
    spec = job["spec"]
    container = job_container(job)
    env = env_of(container)
    need(job["apiVersion"] == "batch/v1", "k8s: shards Job is not batch/v1")
    need(spec.get("completionMode") == "Indexed", "k8s: shards Job is not Indexed")
    need(spec["completions"] == spec["parallelism"] == int(env["SHARDS"]),
         "k8s: completions, parallelism and SHARDS disagree")
    need(spec["template"]["spec"]["restartPolicy"] == "Never", "k8s: restartPolicy")
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = spec["template"]["spec"]["volumes"]
    need(volumes[0]["persistentVolumeClaim"]["claimName"] == claims[0]["metadata"]["name"],
         "k8s: shards Job does not mount the results claim")
    need(mounts.get(volumes[0]["name"]) == env["RESULTS"], "k8s: RESULTS is not the mount")
    merge = [d for d in merge_docs if d.get("kind") == "Job"][0]
    merge_env = env_of(job_container(merge))
    need(merge_env["SHARDS"] == env["SHARDS"], "k8s: the merge Job's SHARDS differs")
    need(merge["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]
         == claims[0]["metadata"]["name"], "k8s: the merge Job reads another claim")
    # The runner accepts the manifest's flags (--help parses every flag first).
    accepted = subprocess.run([sim] + env["SIM_ARGS"].split() +
                              [f"--shard=0/{env['SHARDS']}", "--help"], capture_output=True)
    need(accepted.returncode == 0, f"k8s: the runner refuses SIM_ARGS: {accepted.stderr}")
    return container, job_container(merge)


def check_k8s(deploy, sim, merge, work):
    with open(os.path.join(deploy, "k8s", "shards-job.yaml"), encoding="utf-8") as f:
        shards_docs = list(yaml.safe_load_all(f))
    with open(os.path.join(deploy, "k8s", "merge-job.yaml"), encoding="utf-8") as f:
        merge_docs = list(yaml.safe_load_all(f))
    shape = check_k8s_shape(shards_docs, merge_docs, sim)
    if shape is None:
        return
    shard_container, merge_container = shape
    results = os.path.join(work, "k8s")
    os.makedirs(results, exist_ok=True)
    local = {"SIM": sim, "SIM_ARGS": TEST_ARGS, "SHARDS": "2", "RESULTS": results,
             "MERGE": merge}
    pods = [run(shard_container["command"],
                {**env_of(shard_container), **local, "JOB_COMPLETION_INDEX": str(i)})
            for i in range(2)]
    for i, pod in enumerate(pods):
        finish(pod, f"k8s shard pod {i}", 0)
    out = finish(run(merge_container["command"], {**env_of(merge_container), **local}),
                 "k8s merge pod", 1)
    need("merged: 2 shard reports" in out, f"k8s: the merge pod printed no merged report:\n{out}")
    same_as_unsharded("k8s", results, sim)
    bad = run(shard_container["command"], {**env_of(shard_container), **local,
                                           "SIM_ARGS": "--seeds=x", "JOB_COMPLETION_INDEX": "0"})
    finish(bad, "k8s shard pod with bad flags", 2)


def check_slurm(deploy, sim, merge, work):
    slurm = os.path.join(deploy, "slurm")
    for name in ("shard.sbatch", "merge.sbatch", "submit.sh"):
        syntax = subprocess.run(["sh", "-n", os.path.join(slurm, name)], capture_output=True)
        need(syntax.returncode == 0, f"slurm: {name} is not valid sh: {syntax.stderr}")
    with open(os.path.join(slurm, "shard.sbatch"), encoding="utf-8") as f:
        need("#SBATCH --array=0-" in f.read(), "slurm: shard.sbatch declares no array")
    results = os.path.join(work, "slurm")
    os.makedirs(results, exist_ok=True)
    local = {"SIM": sim, "SIM_ARGS": TEST_ARGS, "RESULTS": results, "MERGE": merge}
    tasks = [run(["sh", os.path.join(slurm, "shard.sbatch")],
                 {**local, "SLURM_ARRAY_TASK_ID": str(i), "SLURM_ARRAY_TASK_COUNT": "2"})
             for i in range(2)]
    for i, task in enumerate(tasks):
        finish(task, f"slurm array task {i}", 0)
    out = finish(run(["sh", os.path.join(slurm, "merge.sbatch")], {**local, "SHARDS": "2"}),
                 "slurm merge job", 1)
    need("merged: 2 shard reports" in out, f"slurm: the merge printed no merged report:\n{out}")
    same_as_unsharded("slurm", results, sim)
    check_submit(slurm, sim, work)


def check_submit(slurm, sim, work):
    # A stand-in sbatch: logs its arguments, answers a job id as --parsable does.
    bin_dir = os.path.join(work, "bin")
    os.makedirs(bin_dir, exist_ok=True)
    log = os.path.join(work, "sbatch.log")
    fake = os.path.join(bin_dir, "sbatch")
    with open(fake, "w", encoding="utf-8") as f:
        f.write(f'#!/bin/sh\necho "$*" >>"{log}"\necho "$(wc -l <"{log}")00;cluster"\n')
    os.chmod(fake, 0o755)
    path = {"PATH": bin_dir + os.pathsep + os.environ["PATH"], "SIM": sim}
    out = finish(run(["sh", os.path.join(slurm, "submit.sh"), "2", os.path.join(work, "r")],
                     path), "slurm submit.sh", 0)
    with open(log, encoding="utf-8") as f:
        calls = f.read().splitlines()
    need(len(calls) == 2 and "--array=0-1" in calls[0] and "shard.sbatch" in calls[0],
         f"slurm: submit.sh did not submit a 2-task array first: {calls}")
    need(len(calls) == 2 and "--dependency=afterok:100" in calls[1] and
         "merge.sbatch" in calls[1], f"slurm: the merge does not wait for the array: {calls}")
    need("merge: job 200" in out, f"slurm: submit.sh output: {out}")
    finish(run(["sh", os.path.join(slurm, "submit.sh"), "two"], path), "submit.sh two", 2)


def main():
    parser = argparse.ArgumentParser()
    for name in ("--deploy", "--sim", "--merge", "--work"):
        parser.add_argument(name, required=True)
    args = parser.parse_args()
    check_k8s(args.deploy, args.sim, args.merge, args.work)
    check_slurm(args.deploy, args.sim, args.merge, args.work)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
