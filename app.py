"""政策助手 — Streamlit entry point of a checkout: ``streamlit run app.py`` (or ``policy-assistant app``).

The app itself is packaged in ``policy_assistant.app_pages`` (folder ``app_pages/``).
"""

from policy_assistant.app_pages.main import main

main()
