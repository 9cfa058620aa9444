"""civicbot: a grassroots-democracy chatbot for a commune People's Committee."""
