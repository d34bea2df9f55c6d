"""verify-sm120: compile every DeepSeek-V4-Flash kernel variant for sm_120 / sm_120a in bounded time."""
