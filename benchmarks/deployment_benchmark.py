"""Model size and CPU latency of one reference model in every runtime it deploys
to (Keras, SavedModel, ONNX, LiteRT float32 and float16), each checked against
Keras: `examples/deploy.py` at the reference size, results in
`benchmarks/results/deployment.json`.

    python benchmarks/deployment_benchmark.py [--repeats 200]
"""

import argparse
import importlib.util
import json
import os
import platform

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = ["--units", "64", "--time", "100", "--epochs", "2"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    args = parser.parse_args(argv)
    spec = importlib.util.spec_from_file_location("deploy", os.path.join(HERE, "..", "examples", "deploy.py"))
    deploy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(deploy)
    rows = deploy.main([*REFERENCE, "--repeats", str(args.repeats)])
    os.makedirs(args.out, exist_ok=True)
    report = {
        "command": "python benchmarks/deployment_benchmark.py " + " ".join(argv or []),
        "model": "Masking + LayerNormLSTM(64) + Dense(1), adding problem, time 100; latency of batch 1",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "results": rows,
    }
    with open(os.path.join(args.out, "deployment.json"), "w") as f:
        json.dump(report, f, indent=1)
    return report


if __name__ == "__main__":
    main()
