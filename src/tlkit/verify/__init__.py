"""verify: does a TileLang wheel do what it should? verify-sm120 compiles every DeepSeek-V4-Flash kernel
variant for the sm_120 family (sm_120, sm_120a, sm_121, sm_121a) in bounded time (sm120.py); verify-gpu runs
them on the GPU present against PyTorch (gpu.py); verify-aarch64 checks an aarch64 wheel under qemu-user
(aarch64.py); doctor checks a Python environment and this machine's GPU (doctor.py). Code that runs inside
the environment under test is in subject/."""
