"""Building for another machine than this one (--arch), and running what was built under qemu-user."""
