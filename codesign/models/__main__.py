"""List the registered network names: ``python -m codesign.models``."""
from codesign.models import list_models

if __name__ == "__main__":
    print("\n".join(list_models()))
