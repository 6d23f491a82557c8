"""The space assistant: chat with Claude about a space (advisor), and let it propose
actions that run only once a person approves them (actor). Qt-free; the chat dock in
``studio/ui/assistant`` and ``studio chat`` use it."""
