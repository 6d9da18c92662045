"""Host builds of the OTA agent's C code, for tests/test_ota_agent_host.py."""
