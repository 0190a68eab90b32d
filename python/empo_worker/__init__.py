"""EmPO Workbench Python worker."""
