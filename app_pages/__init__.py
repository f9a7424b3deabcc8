"""Pages of the Streamlit app (chat; reader and quiz from issue 7)."""
