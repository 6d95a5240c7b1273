"""uprobe-py: SystemTap scripts in user space, without eBPF or a kernel module."""
__version__ = "0.1.0"
