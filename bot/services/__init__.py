"""Domain actions shared by flows, jobs and the CLI. No channel imports."""
