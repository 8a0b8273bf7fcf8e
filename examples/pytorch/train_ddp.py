#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Trains the 784-512-256-10 MLP on Fashion-MNIST with DistributedDataParallel over gloo, N
processes on this machine (torch.multiprocessing.spawn, loopback only), then rank 0 writes what
the device side needs:

  OUT/model.safetensors       the state_dict as F32 safetensors, activations in __metadata__
  OUT/pytorch_test_logits.f32 the trained model's logits on the 10,000 test images (10000 x 10
                              float32, little-endian, row-major): the hand-off check compares
                              Fennec's logits with these
  OUT/pytorch_summary.json    test accuracy, correct count, steps, process count, wall times
                              and rank 0's CPU time in the training loop

Each process trains on its DistributedSampler shard with one thread; the global batch is split
evenly between the processes, so 1 and 2 processes take the same steps on the same data order
(DDP averages the gradients), and the wall times compare like for like. Everything is bounded:
the process group has a timeout, and the parent stops the workers (exit status 3) when the whole
run exceeds --timeout seconds.
"""
import argparse
import datetime
import json
import os
import socket
import sys
import time

# One thread per process: torch.set_num_threads(1) bounds PyTorch's own pool, but Debian's torch
# calls the system BLAS (OpenBLAS), which starts a thread per core unless told before it loads.
# The spawned workers import torch afresh and inherit these.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.nn.parallel import DistributedDataParallel  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402
from torch.utils.data.distributed import DistributedSampler  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_mnist  # noqa: E402
from mlp import FENNEC_METADATA, make_mlp  # noqa: E402
from safetensors_io import save_safetensors  # noqa: E402


def free_loopback_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def evaluate(model, inputs, labels, batch=1000):
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(inputs[i:i + batch]) for i in range(0, inputs.shape[0], batch)])
    correct = int((logits.argmax(dim=1) == labels).sum())
    return logits, correct


def worker(rank, args, port):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=args.procs, timeout=datetime.timedelta(seconds=args.timeout))
    images, labels = fashion_mnist.load_split(args.data, "train")
    if args.train_samples:
        images, labels = images[:args.train_samples], labels[:args.train_samples]
    train = TensorDataset(fashion_mnist.to_inputs(images), torch.from_numpy(labels.astype(np.int64)))
    sampler = DistributedSampler(train, num_replicas=args.procs, rank=rank, shuffle=True,
                                 seed=args.seed, drop_last=True)
    loader = DataLoader(train, batch_size=args.global_batch // args.procs, sampler=sampler, drop_last=True)

    torch.manual_seed(args.seed)  # the same initial weights everywhere (DDP broadcasts rank 0's too)
    model = DistributedDataParallel(make_mlp())
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)

    dist.barrier()
    t0, cpu0 = time.perf_counter(), time.process_time()
    step, epoch = 0, 0
    while epoch < args.epochs and (not args.max_steps or step < args.max_steps):
        sampler.set_epoch(epoch)
        model.train()
        total, batches = 0.0, 0
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss)
            batches += 1
            step += 1
            if args.max_steps and step >= args.max_steps:
                break
        epoch += 1
        if rank == 0:
            print(f"epoch {epoch}: {batches} steps, mean loss (rank 0 shard) {total / max(batches, 1):.4f}, "
                  f"{time.perf_counter() - t0:.1f} s", flush=True)
    dist.barrier()
    train_seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - cpu0

    if rank == 0:
        test_images, test_labels = fashion_mnist.load_split(args.data, "t10k")
        net = model.module
        logits, correct = evaluate(net, fashion_mnist.to_inputs(test_images),
                                   torch.from_numpy(test_labels.astype(np.int64)))
        os.makedirs(args.out, exist_ok=True)
        save_safetensors(net.state_dict(), os.path.join(args.out, "model.safetensors"), FENNEC_METADATA)
        logits.numpy().astype("<f4").tofile(os.path.join(args.out, "pytorch_test_logits.f32"))
        summary = {"processes": args.procs, "steps": step, "epochs": epoch, "global_batch": args.global_batch,
                   "train_seconds": round(train_seconds, 2),
                   "rank0_cpu_seconds": round(cpu_seconds, 2), "test_correct": correct,
                   "test_count": int(test_labels.shape[0]), "test_accuracy": correct / test_labels.shape[0]}
        with open(os.path.join(args.out, "pytorch_summary.json"), "w") as f:
            json.dump(summary, f, indent=1)
        print(f"PyTorch DDP ({args.procs} processes): {step} steps in {train_seconds:.1f} s "
              f"(rank 0 CPU time {cpu_seconds:.1f} s), "
              f"test accuracy {correct / test_labels.shape[0]:.4f} ({correct}/{test_labels.shape[0]})", flush=True)
    dist.barrier()
    dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=fashion_mnist.DEFAULT_DIR, help="Fashion-MNIST IDX directory")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--procs", type=int, default=2, help="processes (DDP ranks), default 2")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: no limit)")
    ap.add_argument("--global-batch", type=int, default=128, help="batch of one step over all processes")
    ap.add_argument("--train-samples", type=int, default=0, help="first N training images only (0: all)")
    ap.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=900, help="seconds before the run is stopped")
    args = ap.parse_args()
    if args.procs < 1 or args.global_batch % args.procs:
        ap.error(f"--global-batch {args.global_batch} must split evenly over --procs {args.procs}")

    # gloo over loopback only: never look for another interface.
    os.environ["GLOO_SOCKET_IFNAME"] = "lo"
    port = free_loopback_port()
    t0 = time.perf_counter()
    context = mp.spawn(worker, args=(args, port), nprocs=args.procs, join=False)
    deadline = t0 + args.timeout
    while not context.join(timeout=max(1.0, min(5.0, deadline - time.perf_counter()))):
        if time.perf_counter() > deadline:
            for p in context.processes:
                if p.is_alive():
                    p.terminate()
            for p in context.processes:
                p.join(10)
            print(f"train_ddp: stopped after {args.timeout:.0f} s (--timeout)", file=sys.stderr)
            sys.exit(3)
    wall = time.perf_counter() - t0
    summary_path = os.path.join(args.out, "pytorch_summary.json")
    with open(summary_path) as f:
        summary = json.load(f)
    summary["wall_seconds"] = round(wall, 2)
    with open(summary_path, "w") as f:
        json.dump(summary, f, indent=1)
    print(f"wall time (spawn to join, {args.procs} processes): {wall:.1f} s")


if __name__ == "__main__":
    main()
