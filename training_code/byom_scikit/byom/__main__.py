"""``python -m byom train|serve [options]``: the container's entry point."""

from __future__ import annotations

import sys

USAGE = "usage: python -m byom {train|serve} [options]   (--help after either for options)"


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("train", "serve"):
        print(USAGE, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "train":
        from byom.train import main as train_main

        return train_main(rest)
    from byom.server import main as serve_main  # gunicorn only needed when serving

    return serve_main(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
