"""verify-sm120: compile every DeepSeek-V4-Flash kernel variant for the sm_120 family (sm_120, sm_120a,
sm_121, sm_121a) in bounded time."""
