"""First-class fakes for tests and benchmarks: real wire protocols, scripted behaviour.

``openai_server`` is a loopback OpenAI-compatible chat server (``FakeOpenAIServer``, action
helpers, the ``fake_openai_server`` fixture); ``fault_plan`` is a script that injects faults per
image deterministically. Import the submodule you need; this package imports nothing on purpose.
"""
