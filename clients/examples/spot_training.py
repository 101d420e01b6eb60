"""A toy training loop that survives spot interruptions with costsite's spot agent.

It "trains" by sleeping and nudging one weight, writes checkpoints as JSON files
(`<dir>/step-<n>.json`, reported as file:// URIs), and resumes from the checkpoint costsite's
directive names. On a real fleet, write checkpoints where a replacement instance can read them
(S3, GCS, a shared disk) and report that URI.

On a spot instance (a fleet's startup script usually sets these):

    export COSTSITE_URL=https://costs.example.com COSTSITE_ORG=ml-team
    export COSTSITE_FLEET_ID=42 COSTSITE_TOKEN=cst_...
    python3 spot_training.py --steps 1000 --checkpoint-dir /mnt/shared/checkpoints

The agent finds the cloud (AWS or GCP) and the instance id from the metadata service.

Locally, against a costsite dev server (`make run`, then a fleet and a write token), no cloud:

    COSTSITE_CLOUD=none COSTSITE_INSTANCE_ID=laptop-1 COSTSITE_URL=http://127.0.0.1:8000 \\
    COSTSITE_ORG=demo COSTSITE_FLEET_ID=1 COSTSITE_TOKEN=cst_... \\
        python3 clients/examples/spot_training.py --steps 50 --step-seconds 0.2

Run it again with more steps: it resumes from the last checkpoint it reported.
"""

import argparse
import json
import logging
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # spot_agent.py is one level up
from spot_agent import SpotAgent


def load(uri):
    path = urllib.request.url2pathname(urllib.parse.urlparse(uri).path)
    return json.loads(Path(path).read_text())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="train up to this step")
    parser.add_argument("--step-seconds", type=float, default=1.0, help="time one step takes")
    parser.add_argument("--checkpoint-dir", default="checkpoints")
    parser.add_argument("--checkpoint-every", type=int, default=10, help="steps")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    directory = Path(args.checkpoint_dir)
    directory.mkdir(parents=True, exist_ok=True)
    state = {"step": 0, "weight": 0.0}

    def save(step):
        path = directory / f"step-{step}.json"
        path.write_text(json.dumps(state))
        return path.resolve().as_uri()

    with SpotAgent(checkpoint_every_steps=args.checkpoint_every) as agent:
        if agent.resume_from:
            state.update(load(agent.resume_from))
            logging.info("resumed from %s at step %d", agent.resume_from, state["step"])
        while state["step"] < args.steps:
            time.sleep(args.step_seconds)
            state["step"] += 1
            state["weight"] += 0.5 / state["step"]
            agent.add_sample(gpu_utilization=95.0, gpu_memory_used_gb=30.5)
            if agent.step(state["step"], checkpoint=save):
                logging.info("stopping at step %d", state["step"])
                return 0
        if agent.checkpoint_step != state["step"]:
            agent.report_checkpoint(state["step"], save(state["step"]))
        logging.info("finished at step %d", state["step"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
